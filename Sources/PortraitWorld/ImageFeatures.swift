/// Simple image features for comparing image distributions without a learned network: the mean
/// colour of each cell of a 4×4 grid (48 values in [0, 1]), which captures the layout and the
/// colours of a portrait.
public enum ImageFeatures {
    public static let grid = 4

    public static func pooledColours(_ image: RGBImage) -> [Double] {
        var features = [Double](repeating: 0, count: grid * grid * 3)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let cell = (y * grid / image.height) * grid + x * grid / image.width
                let p = image[x, y]
                features[3 * cell] += Double(p.r)
                features[3 * cell + 1] += Double(p.g)
                features[3 * cell + 2] += Double(p.b)
            }
        }
        let perCell = Double(image.width * image.height / (grid * grid)) * 255
        return features.map { $0 / perCell }
    }
}
