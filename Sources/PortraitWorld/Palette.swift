/// The colours the world paints with, shared by the renderer and the checker so one can never
/// drift from the other. Hues are saturated and far apart; hair colours are achromatic or
/// brown so they never resemble a background.
public enum Palette {
    public static func colour(_ c: PortraitAttributes.Colour) -> RGB {
        switch c {
        case .red: RGB(215, 45, 45)
        case .orange: RGB(245, 145, 35)
        case .yellow: RGB(240, 215, 50)
        case .green: RGB(45, 165, 70)
        case .blue: RGB(45, 95, 215)
        case .purple: RGB(135, 60, 180)
        }
    }

    public static func hair(_ h: Portrait.Hair) -> RGB {
        switch h {
        case .black: RGB(35, 30, 30)
        case .brown: RGB(115, 70, 35)
        case .grey: RGB(145, 145, 145)
        case .white: RGB(240, 240, 240)
        }
    }

    /// The skin tone that stands in for an ethnicity value (see `PortraitAttributes.Ethnicity`:
    /// a cue of this world, not a claim about people). Five tones of a light-to-dark ramp, each
    /// about 60 RGB units from the next so a blurred, colour-shifted face still reads right.
    public static func skin(_ e: PortraitAttributes.Ethnicity) -> RGB {
        switch e {
        case .caucasian: RGB(250, 222, 200)
        case .european: RGB(228, 184, 146)
        case .asian: RGB(200, 150, 100)
        case .indian: RGB(160, 108, 70)
        case .african: RGB(110, 72, 50)
        }
    }

    static let eyes = RGB(40, 30, 30)
    static let mouth = RGB(165, 60, 60)
    static let glasses = RGB(25, 25, 25)
    static let hat = RGB(55, 35, 30)

    /// The palette entry nearest to `rgb`.
    static func nearest<T>(_ rgb: RGB, among choices: [T], colour: (T) -> RGB) -> T {
        choices.min { colour($0).distance(to: rgb) < colour($1).distance(to: rgb) }!
    }
}
