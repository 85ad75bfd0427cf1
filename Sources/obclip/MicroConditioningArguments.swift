import ArgumentParser
import Diffusion

/// SDXL's micro-conditioning on `generate` and `txt2img` (diffusers' `original_size`,
/// `crops_coords_top_left`, `target_size`). Any part not given takes the pipeline's default:
/// original = target = the generated size, crop 0,0. Ignored by SD1.x models, which have no
/// such embedding.
struct MicroConditioningArguments: ParsableArguments {
    @Option(help: "SDXL micro-conditioning: the training image's size before resizing, WIDTHxHEIGHT (default: the image size).")
    var originalSize: String?

    @Option(help: "SDXL micro-conditioning: the crop's top-left corner, TOP,LEFT in pixels (default 0,0).")
    var cropTopLeft: String?

    @Option(help: "SDXL micro-conditioning: the target size, WIDTHxHEIGHT (default: the image size).")
    var targetSize: String?

    func validate() throws {
        _ = try parsed()
    }

    /// The micro-conditioning for an image of `width`×`height`, or nil when no part was given
    /// (every consumer then applies the same defaults, and a request carries no fields).
    func microConditioning(width: Int, height: Int) throws -> MicroConditioning? {
        let (original, crop, target) = try parsed()
        guard original != nil || crop != nil || target != nil else { return nil }
        return MicroConditioning(originalHeight: original?.1 ?? height, originalWidth: original?.0 ?? width,
                                 cropTop: crop?.0 ?? 0, cropLeft: crop?.1 ?? 0,
                                 targetHeight: target?.1 ?? height, targetWidth: target?.0 ?? width)
    }

    private func parsed() throws -> (original: (Int, Int)?, crop: (Int, Int)?, target: (Int, Int)?) {
        (try originalSize.map { try Self.pair($0, separator: "x", option: "--original-size", form: "WIDTHxHEIGHT", positive: true) },
         try cropTopLeft.map { try Self.pair($0, separator: ",", option: "--crop-top-left", form: "TOP,LEFT", positive: false) },
         try targetSize.map { try Self.pair($0, separator: "x", option: "--target-size", form: "WIDTHxHEIGHT", positive: true) })
    }

    /// Two integers in 0...65536 (the server's range), positive for sizes.
    private static func pair(_ text: String, separator: Character, option: String, form: String, positive: Bool) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: separator, omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let a = parts[0], let b = parts[1],
              [a, b].allSatisfy({ (positive ? 1 : 0)...65536 ~= $0 }) else {
            throw ValidationError("\(option) must be \(form) (integers in \(positive ? 1 : 0)...65536), got \(text)")
        }
        return (a, b)
    }
}
