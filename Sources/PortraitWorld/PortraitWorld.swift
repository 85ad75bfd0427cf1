/// The procedural portrait world: sample `index` of a world seed is always the same person,
/// drawn and captioned the same way, independent of the other samples.
public struct PortraitWorld: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// One sample: the person, their caption and their image.
    public struct Sample: Sendable {
        public let portrait: Portrait
        public let caption: String
        public let image: RGBImage
    }

    public func sample(_ index: Int) -> Sample {
        // Mixing the index through one SplitMix64 step decorrelates neighbouring samples' streams.
        var mixer = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: index) &* 0xD6E8_FEB8_6659_FD93)
        var rng = SplitMix64(seed: mixer.next())
        let portrait = Self.person(using: &rng)
        return Sample(portrait: portrait, caption: CaptionWriter.caption(for: portrait, using: &rng),
                      image: PortraitRenderer.render(portrait))
    }

    /// Attributes drawn uniformly (balanced classes for training and for the checker's
    /// validation); the background always differs from the shirt so the shirt stays visible.
    static func person(using rng: inout SplitMix64) -> Portrait {
        let gender = PortraitAttributes.Gender.allCases.randomElement(using: &rng)!
        let age = PortraitAttributes.Age.allCases.randomElement(using: &rng)!
        let hair: Portrait.Hair = switch age {
        case .young: [.black, .brown].randomElement(using: &rng)!
        case .middleAged: .grey
        case .old: .white
        }
        let ethnicity = PortraitAttributes.Ethnicity.allCases.randomElement(using: &rng)!
        let shirt = PortraitAttributes.Colour.allCases.randomElement(using: &rng)!
        let background = PortraitAttributes.Colour.allCases.filter { $0 != shirt }.randomElement(using: &rng)!
        let accessory = PortraitAttributes.Accessory.allCases.randomElement(using: &rng)!
        let beard = gender == .male && Int.random(in: 0..<5, using: &rng) < 2
        return Portrait(attributes: PortraitAttributes(gender: gender, age: age, ethnicity: ethnicity, shirt: shirt, background: background, accessory: accessory),
                        hair: hair, beard: beard, years: Int.random(in: age.years, using: &rng))
    }
}
