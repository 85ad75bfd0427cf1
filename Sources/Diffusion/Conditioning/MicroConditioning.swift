/// SDXL's micro-conditioning (`_get_add_time_ids`): the size the training image had before
/// resizing, the top-left corner of its crop, and the target size, each (height, width) in
/// pixels. The pipeline's defaults are original = target = the generated size and no crop.
public struct MicroConditioning: Sendable, Equatable, Codable {
    public var originalHeight: Int
    public var originalWidth: Int
    public var cropTop: Int
    public var cropLeft: Int
    public var targetHeight: Int
    public var targetWidth: Int

    public init(originalHeight: Int, originalWidth: Int, cropTop: Int = 0, cropLeft: Int = 0, targetHeight: Int, targetWidth: Int) {
        self.originalHeight = originalHeight
        self.originalWidth = originalWidth
        self.cropTop = cropTop
        self.cropLeft = cropLeft
        self.targetHeight = targetHeight
        self.targetWidth = targetWidth
    }

    /// diffusers' defaults for an image of `height`×`width`: original = target = that size, crop (0, 0).
    public static func defaults(height: Int, width: Int) -> MicroConditioning {
        MicroConditioning(originalHeight: height, originalWidth: width, targetHeight: height, targetWidth: width)
    }

    /// `original_size + crops_coords_top_left + target_size`, the six values embedded per row.
    public var timeIDs: [Float] {
        [originalHeight, originalWidth, cropTop, cropLeft, targetHeight, targetWidth].map(Float.init)
    }
}
