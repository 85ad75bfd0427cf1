/// Where everything sits in a 64×64 portrait. Shapes are large (the smallest cue, a lens, is
/// 8×7 pixels) because generated images come out of a VAE whose latent pixel covers 8×8 image
/// pixels; the checker samples the middle of each shape, away from blurred edges.
public enum PortraitLayout {
    public static let size = 64

    /// A rectangle of pixels, `x` and `y` half-open.
    struct Box {
        let x: Range<Int>, y: Range<Int>

        func contains(_ px: Int, _ py: Int) -> Bool { x.contains(px) && y.contains(py) }
        var pixels: [(x: Int, y: Int)] { y.flatMap { py in x.map { (x: $0, y: py) } } }
    }

    static func inEllipse(_ x: Int, _ y: Int, cx: Float, cy: Float, rx: Float, ry: Float) -> Bool {
        let dx = (Float(x) + 0.5 - cx) / rx, dy = (Float(y) + 0.5 - cy) / ry
        return dx * dx + dy * dy <= 1
    }

    // Drawing shapes.
    static func inFace(_ x: Int, _ y: Int) -> Bool { inEllipse(x, y, cx: 32, cy: 30, rx: 10.5, ry: 12.5) }
    static func inHairDome(_ x: Int, _ y: Int) -> Bool { inEllipse(x, y, cx: 32, cy: 26, rx: 14, ry: 14) }
    /// Short hair is the dome above the ears; long hair is the whole dome plus two locks
    /// falling over the shoulders.
    static let shortHairBottom = 30
    static let longHairLocks = [Box(x: 14..<22, y: 22..<56), Box(x: 42..<50, y: 22..<56)]
    static let neck = Box(x: 28..<36, y: 38..<48)
    /// A trapezoid: shoulders widen by two pixels a row from the collar down.
    static func inShirt(_ x: Int, _ y: Int) -> Bool {
        guard y >= 46 else { return false }
        return abs(Float(x) + 0.5 - 32) <= Float(min(12 + 2 * (y - 46), 24))
    }
    static let beardTop = 35
    static let mouth = Box(x: 29..<35, y: 36..<38)
    static let eyes = [Box(x: 26..<29, y: 27..<30), Box(x: 35..<38, y: 27..<30)]
    static let lenses = [Box(x: 23..<31, y: 25..<32), Box(x: 33..<41, y: 25..<32), Box(x: 31..<33, y: 27..<29)]
    static let hat = [Box(x: 21..<43, y: 2..<11), Box(x: 14..<50, y: 10..<13)]

    // Checker sample regions: each lies inside one shape whenever that shape is drawn.
    static let backgroundSample = [Box(x: 1..<9, y: 1..<8), Box(x: 55..<63, y: 1..<8)]
    static let shirtSample = [Box(x: 24..<40, y: 53..<62)]
    static let hairSample = [Box(x: 27..<37, y: 14..<17), Box(x: 19..<22, y: 20..<27), Box(x: 43..<46, y: 20..<27)]
    static let lockSample = [Box(x: 15..<20, y: 32..<44), Box(x: 45..<50, y: 32..<44)]
    /// The forehead between the hairline and the lenses, and the neck between the chin (where
    /// a beard may reach) and the collar.
    static let skinSample = [Box(x: 28..<36, y: 20..<24), Box(x: 30..<34, y: 43..<46)]
    static let lensSample = [Box(x: 24..<30, y: 26..<31), Box(x: 34..<40, y: 26..<31)]
    static let hatSample = [Box(x: 25..<39, y: 3..<9)]
}
