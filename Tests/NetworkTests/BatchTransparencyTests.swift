import Foundation
import XCTest
import TensorCore
import WireProtocol
@testable import CloudServer

/// `ModelBackend` promises that batching compatible requests is invisible: each request's latents
/// are bit for bit what it gets alone, wherever its rows sit in the batched UNet call. On the
/// trained demo models: the random tiny models' noise predictions are too small for a last-bit
/// difference in them to reach the latents.
final class BatchTransparencyTests: XCTestCase {
    func testBatchedRequestsEqualTheirSoloRunsBitForBit() async throws {
        let models = try ServerModels(source: .directory(DeviceFootprintTests.models.appendingPathComponent("demo-server")))
        let backend = ModelBackend(models: models)
        func request(_ candidates: [String]) -> GenerationRequest {
            GenerationRequest(candidates: candidates, seed: 7, steps: 4, switchStep: 2, scheduler: "dpm++2m", guidanceScale: 7.5,
                              width: 64, height: 64)
        }
        // 6, 4 and 4 candidates (the case that found the bug): the later requests' 8×8 latent
        // images start at rows that are not multiples of the GEMM's 6-row tiles.
        let requests = [
            request((0..<6).map { "a photo of a dog, variant \($0)" }),
            request((0..<4).map { "a painting of a house, variant \($0)" }),
            request((0..<4).map { "a drawing of a cat, variant \($0)" }),
        ]
        let batched = try await backend.generate(requests, observer: .none)
        XCTAssertEqual(batched.count, 3)
        for (number, request) in requests.enumerated() {
            let alone = try await backend.generate([request], observer: .none)[0]
            let got = batched[number].latents.scalars.map(\.bitPattern), want = alone.latents.scalars.map(\.bitPattern)
            XCTAssertEqual(got.count, want.count)
            let differing = zip(got, want).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "request \(number): \(differing) of \(want.count) latent values differ from its solo run")
        }
    }
}
