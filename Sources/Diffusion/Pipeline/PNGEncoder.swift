import Foundation
import TensorCore

/// Minimal PNG writer: 8-bit RGB, no metadata chunks (a prompt must never leak into a file),
/// image data in stored (uncompressed) deflate blocks inside a zlib stream, so no zlib is
/// needed. Files are about 3 bytes per pixel.
public enum PNGEncoder {
    /// PNG bytes for one NHWC image `[1, height, width, 3]` (or `[height, width, 3]`) with values
    /// in [0, 1], quantised like diffusers' `numpy_to_pil` (`round(x·255)`).
    public static func encode(_ image: Tensor) throws -> Data {
        let shape = image.rank == 4 ? image.shape : [1] + image.shape
        guard shape.count == 4, shape[0] == 1, shape[3] == 3, shape[1] > 0, shape[2] > 0 else {
            throw UNetError.invalidInput("PNG needs one RGB image [1, height, width, 3], got \(image.shape)")
        }
        let (height, width) = (shape[1], shape[2])
        var raw = [UInt8](repeating: 0, count: height * (1 + 3 * width))
        for y in 0..<height {
            let row = y * (1 + 3 * width)   // filter byte 0 (None) then RGB
            for i in 0..<(3 * width) {
                let v = image.pointer[y * 3 * width + i]
                raw[row + 1 + i] = UInt8((Swift.min(Swift.max(v.isNaN ? 0 : v, 0), 1) * 255).rounded())
            }
        }
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, 2, 0, 0, 0])   // 8-bit, truecolour, deflate, adaptive filter, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", zlibStored(raw), to: &png)
        appendChunk("IEND", Data(), to: &png)
        return png
    }

    /// Writes `image` (see `encode`) to `url`.
    public static func write(_ image: Tensor, to url: URL) throws {
        try encode(image).write(to: url)
    }

    private static func appendChunk(_ type: String, _ body: Data, to png: inout Data) {
        png.appendBigEndian(UInt32(body.count))
        let typed = Data(type.utf8) + body
        png.append(typed)
        png.appendBigEndian(crc32(typed))
    }

    /// A zlib stream of stored deflate blocks (≤ 65535 bytes each) with its Adler-32.
    static func zlibStored(_ bytes: [UInt8]) -> Data {
        var out = Data([0x78, 0x01])
        var offset = 0
        repeat {
            let n = Swift.min(65535, bytes.count - offset)
            let final: UInt8 = offset + n == bytes.count ? 1 : 0
            out.append(final)
            out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)])
            out.append(contentsOf: bytes[offset..<(offset + n)])
            offset += n
        } while offset < bytes.count
        out.appendBigEndian(adler32(bytes))
        return out
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < bytes.count {
            // 5552 bytes is the largest run before the sums can overflow 32 bits.
            let end = Swift.min(i + 5552, bytes.count)
            while i < end { a += UInt32(bytes[i]); b += a; i += 1 }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

private extension Data {
    mutating func appendBigEndian(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
