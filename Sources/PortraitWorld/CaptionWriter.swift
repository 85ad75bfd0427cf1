/// Writes a portrait's caption in varied prompt-style phrasing and in any clause order: the
/// person, the shirt, the accessory and the background come in a random order, each clause in
/// one of several phrasings, so models trained on the captions follow a prompt however its
/// clauses are ordered. Gender, age and ethnicity use the default privacy taxonomy's words (or
/// an age in years) right before the person noun, so the privacy engine detects them.
public enum CaptionWriter {
    /// The taxonomy's forms of each ethnicity value a caption may use; the first (the form the
    /// privacy engine writes into candidate prompts) is the most frequent.
    public static func ethnicityWords(_ e: PortraitAttributes.Ethnicity) -> [String] {
        switch e {
        case .caucasian: ["Caucasian", "Caucasian", "white"]
        case .african: ["African", "African", "black", "African-American", "Nigerian", "Kenyan"]
        case .asian: ["Asian", "Asian", "East Asian", "Chinese", "Japanese", "Korean"]
        case .indian: ["Indian", "Indian", "South Asian"]
        case .european: ["European", "European", "French", "German", "Italian", "Spanish"]
        }
    }

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
        let subject = pick(["a portrait of ", "portrait of ", "a photo of ", "photo of ", "a headshot of ", "", ""])
            + article(before: ageWord) + " " + ageWord + " " + pick(ethnicityWords(a.ethnicity)) + " " + noun

        // A clause either joins the person with a word ("in a red shirt") or stands alone in a
        // comma list ("red shirt"); shirt and accessory never share a verb ("wearing a hat
        // wearing a red shirt").
        struct Clause { let joined: String, bare: String }
        let verbs = ["in", "wearing", "with"].shuffled(using: &rng)
        let shirt = a.shirt.rawValue, shirtNoun = pick(["shirt", "shirt", "shirt", "t-shirt", "top", "sweater"])
        let shirtPhrase = "\(article(before: shirt)) \(shirt) \(shirtNoun)"
        var clauses = [Clause(joined: "\(pick([verbs[0], verbs[0], "dressed in"])) \(shirtPhrase)", bare: pick([shirtPhrase, "\(shirt) \(shirtNoun)"]))]
        switch a.accessory {
        case .glasses: clauses.append(Clause(joined: "\(verbs[1]) glasses", bare: pick(["glasses", "wearing glasses"])))
        case .hat: clauses.append(Clause(joined: "\(verbs[1]) a hat", bare: pick(["a hat", "wearing a hat"])))
        case .none: break
        }
        let background = a.background.rawValue, an = article(before: background)
        let backNoun = pick(["background", "background", "backdrop"])
        clauses.append(Clause(joined: pick(["on \(an) \(background) \(backNoun)", "against \(an) \(background) \(backNoun)",
                                            "in front of \(an) \(background) \(backNoun)", "with \(an) \(background) \(backNoun)"]),
                              bare: pick(["\(background) \(backNoun)", "\(an) \(background) \(backNoun)", "\(background) \(backNoun)"])))
        clauses.shuffle(using: &rng)

        // Some clauses before the person (as a comma list), the rest after it.
        let before = Int.random(in: 0...clauses.count, using: &rng) * Int.random(in: 0...1, using: &rng)
        let lead = clauses[..<before].map { Bool.random(using: &rng) ? $0.bare : $0.joined }
        var tail: [String] = []
        for (i, clause) in clauses[before...].enumerated() {
            let separator = i == 0 ? pick([" ", " ", ", "]) : pick([" ", ", ", " and ", ", "])
            tail.append(separator + (separator == ", " && Bool.random(using: &rng) ? clause.bare : clause.joined))
        }
        return (lead.isEmpty ? "" : lead.joined(separator: ", ") + ", ") + subject + tail.joined()
    }

    /// "a" or "an" before a word or a number of years (an 18-year-old, an 80-year-old, a
    /// European).
    static func article(before word: String) -> String {
        if let first = word.first, first.isNumber {
            return word.hasPrefix("8") || word.hasPrefix("18-") || word.hasPrefix("11-") ? "an" : "a"
        }
        let lower = word.lowercased()
        if lower.hasPrefix("eu") { return "a" }
        return "aeiou".contains(lower.first ?? "x") ? "an" : "a"
    }
}
