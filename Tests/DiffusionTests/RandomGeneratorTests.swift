import Foundation
import SafeTensors
import XCTest
@testable import Diffusion

/// `TorchGenerator` against `torch.randn` references from tools/fixtures_schedulers.py.
final class RandomGeneratorTests: XCTestCase {
    private struct RandnCase: Decodable {
        let name: String
        let seed: UInt64
        let sizes: [Int]
    }

    private func checkAgainstTorch(_ fill: TorchGenerator.NormalFill, metadataKey: String) throws {
        let reader = try SafeTensorsReader(contentsOf: Fixtures.url("schedulers/randn.safetensors"))
        let cases = try JSONDecoder().decode([RandnCase].self, from: Data(reader.metadata[metadataKey]!.utf8))
        XCTAssertFalse(cases.isEmpty)
        for testCase in cases {
            var generator = TorchGenerator(seed: testCase.seed, normalFill: fill)
            for (i, size) in testCase.sizes.enumerated() {
                let expected = try reader.floats("\(testCase.name)/draw\(i)")
                let got = generator.randn([size]).scalars
                XCTAssertEqual(got.count, expected.count)
                let mismatches = zip(got, expected).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(mismatches, 0, "\(testCase.name) draw \(i) (size \(size)): \(mismatches) values differ from torch.randn")
            }
        }
    }

    func testRandnIsBitIdenticalToTorchAVX2Kernel() throws {
        try checkAgainstTorch(.avx2, metadataKey: "avx2")
    }

    func testRandnIsBitIdenticalToTorchGenericKernel() throws {
        try checkAgainstTorch(.generic, metadataKey: "generic")
    }

    func testMersenneTwisterReferenceOutput() {
        // The first outputs of MT19937 with the reference seed 5489 (Matsumoto & Nishimura).
        var engine = MersenneTwister(seed: 5489)
        XCTAssertEqual((0..<3).map { _ in engine.nextUInt32() }, [3_499_211_612, 581_869_302, 3_890_346_734])
        // The 10000th output of the C++ standard's std::mt19937 check.
        var standard = MersenneTwister(seed: 5489)
        for _ in 0..<9999 { _ = standard.nextUInt32() }
        XCTAssertEqual(standard.nextUInt32(), 4_123_659_995)
    }

    func testEncodedStateContinuesExactly() throws {
        // Stop points: fresh, with a cached small-path normal, and just across an MT refill.
        for (seed, prefix) in [(UInt64(3), [Int]()), (11, [7]), (12, [600, 5]), (13, [624 - 16, 1])] {
            var original = TorchGenerator(seed: seed)
            for size in prefix { _ = original.randn([size]) }
            let bytes = original.encoded()
            XCTAssertEqual(bytes.count, TorchGenerator.encodedByteCount)
            var resumed = try TorchGenerator(encoded: bytes)
            XCTAssertEqual(resumed, original)
            for size in [5, 17, 3, 1, 700, 16] {
                XCTAssertEqual(resumed.randn([size]).scalars.map(\.bitPattern), original.randn([size]).scalars.map(\.bitPattern),
                               "seed \(seed) after \(prefix), size \(size)")
            }
        }
        var cached = TorchGenerator(seed: 1)
        _ = cached.randn([1])
        XCTAssertNotNil(cached.cachedNormal, "an odd small draw leaves a cached normal")
        XCTAssertEqual(try TorchGenerator(encoded: cached.encoded()).cachedNormal, cached.cachedNormal)
    }

    func testDecodingRejectsMalformedState() {
        let good = TorchGenerator(seed: 9, normalFill: .generic).encoded()
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try TorchGenerator(encoded: bytes); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(Array(good.dropLast())).contains("expected \(TorchGenerator.encodedByteCount) bytes"))
        var badMagic = good; badMagic[0] = 0x58
        XCTAssertTrue(message(badMagic).contains("magic"))
        var badFill = good; badFill[5] = 7
        XCTAssertTrue(message(badFill).contains("normal fill"))
        var badPosition = good; badPosition[24] = 200  // next = 200 with left = 1
        XCTAssertTrue(message(badPosition).contains("out of range"))
        XCTAssertEqual(try TorchGenerator(encoded: good).normalFill, .generic)
    }

    func testLatentShapeIsRowMajorLikeTorch() {
        var a = TorchGenerator(seed: 5), b = TorchGenerator(seed: 5)
        let latents = a.randn([2, 4, 8, 8])
        XCTAssertEqual(latents.shape, [2, 4, 8, 8])
        XCTAssertEqual(latents.scalars, b.normalScalars(count: 512))
    }
}
