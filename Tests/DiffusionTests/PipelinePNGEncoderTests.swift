import CPNG
import Foundation
import TensorCore
import XCTest
@testable import Diffusion

final class PipelinePNGEncoderTests: XCTestCase {
    func testEncodesRGBWithoutMetadata() throws {
        let (h, w) = (3, 2)
        let values: [Float] = (0..<(h * w * 3)).map { Float($0) / Float(h * w * 3 - 1) }
        let png = [UInt8](try PNGEncoder.encode(Tensor(shape: [1, h, w, 3], scalars: values)))
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Walk the chunks: exactly IHDR, IDAT, IEND, each with a valid CRC.
        var chunks: [String] = [], offset = 8
        while offset < png.count {
            let length = png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(png[(offset + 8)..<(offset + 8 + length)])
            let crc = png[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let typed = Array(png[(offset + 4)..<(offset + 8)]) + body
            XCTAssertEqual(UInt32(CPNG.crc32(0, typed, UInt32(typed.count))), crc, type)
            if type == "IHDR" { XCTAssertEqual(body, [0, 0, 0, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0]) }
            chunks.append(type)
            offset += 12 + length
        }
        XCTAssertEqual(chunks, ["IHDR", "IDAT", "IEND"])
        // The pixels read back (libpng's reader) are the quantised values.
        XCTAssertEqual(try decodeRGB(png, width: w, height: h), values.map { UInt8(($0 * 255).rounded()) })
    }

    func testRejectsNonRGB() {
        XCTAssertThrowsError(try PNGEncoder.encode(Tensor(zeros: [1, 2, 2, 4])))
    }

    private func decodeRGB(_ png: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, png, png.count) != 0 else {
            XCTFail("libpng cannot read the file")
            return []
        }
        XCTAssertEqual([Int(image.width), Int(image.height)], [width, height])
        image.format = UInt32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        XCTAssertNotEqual(png_image_finish_read(&image, nil, &pixels, 0, nil), 0)
        return pixels
    }
}
