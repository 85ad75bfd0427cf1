/// Images tiled in a grid with a 2-pixel white gutter, for looking at many portraits at once.
public struct ContactSheet {
    public let image: RGBImage

    /// Tiles `images` (all the same size) row by row, `columns` per row.
    public init(images: [RGBImage], columns: Int) {
        let (w, h) = (images.first?.width ?? 1, images.first?.height ?? 1)
        let columns = max(1, min(columns, images.count))
        let rows = (images.count + columns - 1) / columns
        let gutter = 2
        var sheet = RGBImage(width: columns * (w + gutter) + gutter, height: rows * (h + gutter) + gutter, fill: RGB(255, 255, 255))
        for (i, tile) in images.enumerated() {
            let (ox, oy) = (gutter + (i % columns) * (w + gutter), gutter + (i / columns) * (h + gutter))
            for y in 0..<min(h, tile.height) { for x in 0..<min(w, tile.width) { sheet[ox + x, oy + y] = tile[x, y] } }
        }
        image = sheet
    }
}
