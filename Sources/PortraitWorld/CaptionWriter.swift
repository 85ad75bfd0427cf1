/// Writes a portrait's caption in varied prompt-style phrasing. Gender and age use the default
/// privacy taxonomy's words (or an age in years), so the privacy engine detects them.
public enum CaptionWriter {
    public static func caption(for portrait: Portrait, using rng: inout SplitMix64) -> String {
        let a = portrait.attributes
        func pick(_ options: [String]) -> String { options.randomElement(using: &rng)! }

        let noun = a.gender == .male ? pick(["man", "man", "gentleman", "guy"]) : pick(["woman", "woman", "lady"])
        let ageWord: String
        if Int.random(in: 0..<10, using: &rng) < 3 {
            ageWord = "\(portrait.years)-year-old"
        } else {
            switch a.age {
            case .young: ageWord = pick(["young", "young", "youthful"])
            case .middleAged: ageWord = pick(["middle-aged", "middle aged"])
            case .old: ageWord = pick(["old", "old", "elderly"])
            }
        }
        let subject = article(before: ageWord) + " " + ageWord + " " + noun
        // Shirt and accessory never share a verb ("wearing a hat wearing a red shirt").
        let verbs = ["in", "wearing", "with"].shuffled(using: &rng)
        var details = ["\(verbs[0]) \(article(before: a.shirt.rawValue)) \(a.shirt.rawValue) shirt"]
        switch a.accessory {
        case .glasses: details.insert("\(verbs[1]) glasses", at: Int.random(in: 0...1, using: &rng))
        case .hat: details.insert("\(verbs[1]) a hat", at: Int.random(in: 0...1, using: &rng))
        case .none: break
        }
        let background = a.background.rawValue, an = article(before: background)
        let setting = pick([", \(background) background", " on \(an) \(background) background", " against \(an) \(background) backdrop",
                            ", \(background) backdrop"])
        let prefix = pick(["a portrait of ", "portrait of ", "a photo of ", "photo of ", "a headshot of ", ""])
        return prefix + subject + " " + details.joined(separator: details.count > 1 && Bool.random(using: &rng) ? " and " : " ") + setting
    }

    /// "a" or "an" before a word or a number of years (an 18-year-old, an 80-year-old).
    static func article(before word: String) -> String {
        if let first = word.first, first.isNumber {
            return word.hasPrefix("8") || word.hasPrefix("18-") || word.hasPrefix("11-") ? "an" : "a"
        }
        return "aeiou".contains(word.first ?? "x") ? "an" : "a"
    }
}
