/// The attributes a portrait shows. Gender, age and ethnicity are the privacy taxonomy's
/// sensitive attributes (their raw values are the default taxonomy's value names); the rest are
/// the non-sensitive content a prompt asks for.
public struct PortraitAttributes: Hashable, Sendable, Codable {
    public enum Gender: String, CaseIterable, Sendable, Codable { case male, female }

    /// The default taxonomy's age bands, with the ages (in years) a caption may name for each.
    public enum Age: String, CaseIterable, Sendable, Codable {
        case young, middleAged = "middle-aged", old

        public var years: ClosedRange<Int> {
            switch self {
            case .young: 18...39
            case .middleAged: 40...59
            case .old: 60...89
            }
        }
    }

    /// The default taxonomy's ethnicity values. In this world each is drawn as one skin tone
    /// (`Palette.skin`): a stand-in visual cue so a checker can tell whether an image followed
    /// the prompt's ethnicity word, not a claim about people — real people of every ethnicity
    /// have every skin tone, and ethnicity is not a colour.
    public enum Ethnicity: String, CaseIterable, Sendable, Codable {
        case caucasian, african, asian, indian, european
    }

    /// The colours a shirt or a background can have: six hues far apart so each survives a
    /// blurry reconstruction.
    public enum Colour: String, CaseIterable, Sendable, Codable {
        case red, orange, yellow, green, blue, purple
    }

    public enum Accessory: String, CaseIterable, Sendable, Codable { case none, glasses, hat }

    public var gender: Gender
    public var age: Age
    public var ethnicity: Ethnicity
    public var shirt: Colour
    public var background: Colour
    public var accessory: Accessory

    public init(gender: Gender, age: Age, ethnicity: Ethnicity, shirt: Colour, background: Colour, accessory: Accessory) {
        self.gender = gender
        self.age = age
        self.ethnicity = ethnicity
        self.shirt = shirt
        self.background = background
        self.accessory = accessory
    }
}

/// One person of the world: the checkable attributes plus the drawing choices that vary within
/// them (hair colour within the age band, a beard for some men) and the age in years a caption
/// may state.
public struct Portrait: Hashable, Sendable, Codable {
    /// Age shows as hair colour: black or brown when young, grey in middle age, white when old.
    public enum Hair: String, CaseIterable, Sendable, Codable {
        case black, brown, grey, white

        public var age: PortraitAttributes.Age {
            switch self {
            case .black, .brown: .young
            case .grey: .middleAged
            case .white: .old
            }
        }
    }

    public var attributes: PortraitAttributes
    public var hair: Hair
    public var beard: Bool
    public var years: Int

    public init(attributes: PortraitAttributes, hair: Hair, beard: Bool, years: Int) {
        self.attributes = attributes
        self.hair = hair
        self.beard = beard
        self.years = years
    }
}
