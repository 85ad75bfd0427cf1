import TensorCore

/// An 8-bit RGB image, rows top to bottom, pixels interleaved `r g b`: the world's native form
/// and what the checker reads.
public struct RGBImage: Hashable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: RGB) {
        self.width = width
        self.height = height
        pixels = Array([fill.r, fill.g, fill.b].repeated(width * height))
    }

    /// Wraps `width × height × 3` interleaved bytes; fails on any other count.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw PortraitWorldError.invalidImage("expected \(width)×\(height)×3 = \(width * height * 3) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Image `index` of an NHWC RGB tensor with values in [0, 1] (a pipeline's output), rounded
    /// as the PNG writer rounds.
    public init(_ images: Tensor, index: Int = 0) throws {
        guard images.rank == 4, images.shape[3] == 3, (0..<images.shape[0]).contains(index) else {
            throw PortraitWorldError.invalidImage("expected NHWC RGB images [n, height, width, 3] with index \(index) < n, got \(images.shape)")
        }
        let (height, width) = (images.shape[1], images.shape[2])
        let base = images.pointer + index * height * width * 3
        try self.init(width: width, height: height, pixels: (0..<(height * width * 3)).map { i in
            let v = base[i]
            return UInt8((Swift.min(Swift.max(v.isNaN ? 0 : v, 0), 1) * 255).rounded())
        })
    }

    public subscript(x: Int, y: Int) -> RGB {
        get {
            let i = 3 * (y * width + x)
            return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = 3 * (y * width + x)
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
        }
    }

    /// NHWC `[1, height, width, 3]` with values in [0, 1], for the PNG writer.
    public var tensor: Tensor {
        Tensor(shape: [1, height, width, 3], scalars: pixels.map { Float($0) / 255 })
    }
}

/// One 8-bit colour.
public struct RGB: Hashable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Euclidean distance in RGB units.
    public func distance(to other: RGB) -> Float {
        let dr = Float(r) - Float(other.r), dg = Float(g) - Float(other.g), db = Float(b) - Float(other.b)
        return (dr * dr + dg * dg + db * db).squareRoot()
    }

    /// Rec. 601 luma.
    public var luma: Float { 0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b) }
}

private extension Array {
    func repeated(_ times: Int) -> [Element] { Array(Swift.repeatElement(self, count: times).joined()) }
}
