import Foundation
import PNGWriter
import TensorCore

/// PNG writer on Debian's libpng: 8-bit RGB with libpng's adaptive row filters and zlib's
/// default deflate level, and only the IHDR, IDAT and IEND chunks — no text, time or colour
/// metadata, so nothing about a generation (least of all its prompt) can end up in a file.
public enum PNGEncoder {
    /// PNG bytes for one NHWC image `[1, height, width, 3]` (or `[height, width, 3]`) with values
    /// in [0, 1], quantised like diffusers' `numpy_to_pil` (`round(x·255)`).
    public static func encode(_ image: Tensor) throws -> Data {
        let shape = image.rank == 4 ? image.shape : [1] + image.shape
        guard shape.count == 4, shape[0] == 1, shape[3] == 3, shape[1] > 0, shape[2] > 0 else {
            throw UNetError.invalidInput("PNG needs one RGB image [1, height, width, 3], got \(image.shape)")
        }
        let (height, width) = (shape[1], shape[2])
        let pixels = (0..<(height * width * 3)).map { i -> UInt8 in
            let v = image.pointer[i]
            return UInt8((Swift.min(Swift.max(v.isNaN ? 0 : v, 0), 1) * 255).rounded())
        }
        var png: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        guard obclip_png_encode_rgb(pixels, Int32(width), Int32(height), &png, &size, &message, message.count) != 0, let png else {
            throw UNetError.invalidInput("libpng could not write the image: \(String(cString: message))")
        }
        defer { free(png) }
        return Data(bytes: png, count: size)
    }

    /// Writes `image` (see `encode`) to `url`.
    public static func write(_ image: Tensor, to url: URL) throws {
        try encode(image).write(to: url)
    }
}
