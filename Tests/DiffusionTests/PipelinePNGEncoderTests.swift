import Foundation
import TensorCore
import XCTest
@testable import Diffusion

final class PipelinePNGEncoderTests: XCTestCase {
    func testChecksumsMatchTheirStandardCheckValues() {
        XCTAssertEqual(PNGEncoder.crc32(Data("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PNGEncoder.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        let long = [UInt8](repeating: 255, count: 100_000)   // crosses the modulo-reduction interval
        var a: UInt64 = 1, b: UInt64 = 0
        for byte in long { a = (a + UInt64(byte)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(PNGEncoder.adler32(long), UInt32(b << 16 | a))
    }

    func testEncodesRGBWithoutMetadata() throws {
        let (h, w) = (3, 2)
        let values: [Float] = (0..<(h * w * 3)).map { Float($0) / Float(h * w * 3 - 1) }
        let png = [UInt8](try PNGEncoder.encode(Tensor(shape: [1, h, w, 3], scalars: values)))
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Walk the chunks: exactly IHDR, IDAT, IEND, each with a valid CRC.
        var chunks: [String] = [], offset = 8, idat: [UInt8] = []
        while offset < png.count {
            let length = png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(png[(offset + 8)..<(offset + 8 + length)])
            let crc = png[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(PNGEncoder.crc32(Data(Array(png[(offset + 4)..<(offset + 8)]) + body)), crc, type)
            if type == "IHDR" { XCTAssertEqual(body, [0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0]) }
            if type == "IDAT" { idat = body }
            chunks.append(type)
            offset += 12 + length
        }
        XCTAssertEqual(chunks, ["IHDR", "IDAT", "IEND"])
        // zlib header, one final stored block holding filter byte 0 + RGB per row, Adler-32.
        var raw: [UInt8] = []
        for y in 0..<h {
            raw.append(0)
            for i in 0..<(w * 3) { raw.append(UInt8((values[y * w * 3 + i] * 255).rounded())) }
        }
        XCTAssertEqual(Array(idat[0..<3]), [0x78, 0x01, 0x01])
        XCTAssertEqual(Array(idat[7..<(7 + raw.count)]), raw)
        XCTAssertEqual(idat.count, 7 + raw.count + 4)
    }

    func testRejectsNonRGB() {
        XCTAssertThrowsError(try PNGEncoder.encode(Tensor(zeros: [1, 2, 2, 4])))
    }
}
