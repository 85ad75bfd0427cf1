/// Chooses "a" or "an" by how the next word is pronounced, not how it is spelled: "an old man",
/// "a European", "an 18-year-old", "an LGBT couple", "a one-eyed cat", "an hour". Every
/// candidate's articles are recomputed with this one function, so no candidate keeps a stale
/// article that would single it out.
enum IndefiniteArticle {
    /// True if `word` takes "an". In a text written all in capitals (`shouting`) a capitalised
    /// word is an ordinary word, not an acronym ("A STAGE", not "AN S-T-A-G-E").
    static func takesAn(_ word: String, shouting: Bool = false) -> Bool {
        guard let first = word.first else { return false }
        if first.isNumber { return numberTakesAn(word) }
        let lower = word.lowercased()
        let letters = word.prefix { $0.isLetter }
        // Acronyms are read letter by letter ("an MRI", "a UFO", "an LGBT").
        if !shouting, letters.count >= 2, letters.count <= 5, letters.allSatisfy(\.isUppercase), !isPronouncedAsWord(String(letters)) {
            return "AEFHILMNORSX".contains(letters.first!)
        }
        if letters.count == 1, word.count == 1 || !word.dropFirst().first!.isLetter {
            // A single letter: "an X-ray", "a T-shirt", "an A".
            return "aefhilmnorsx".contains(lower.first!)
        }
        for prefix in consonantSoundPrefixes where lower.hasPrefix(prefix) { return false }
        for prefix in vowelSoundPrefixes where lower.hasPrefix(prefix) { return true }
        return "aeiou".contains(lower.first!)
    }

    /// "a" or "an" for `word`, written in `style`.
    static func article(before word: String, style: CaseStyle, shouting: Bool) -> String {
        style.apply(to: takesAn(word, shouting: shouting) ? "an" : "a")
    }

    /// Whether a text is written all in capitals (it has letters and none is lower-case).
    static func isShouting(_ text: String) -> Bool {
        text.contains(where: \.isLetter) && !text.contains(where: \.isLowercase)
    }

    /// Vowel letters read with a consonant sound ("a unicorn", "a European", "a one-off").
    private static let consonantSoundPrefixes = [
        "uni", "use", "usu", "usa", "uti", "uto", "ura", "ure", "uri", "euro", "eu", "ewe", "one", "once", "ubiq", "ukr", "ufo", "uk ",
    ]
    /// Consonant letters read with a vowel sound ("an hour", "an honest", "an heir").
    private static let vowelSoundPrefixes = ["hour", "honest", "honor", "honour", "heir"]

    /// Capitalised acronyms spoken as words take the article of their spelling ("a NASA", "a UNESCO").
    private static func isPronouncedAsWord(_ letters: String) -> Bool {
        ["NASA", "NATO", "UNESCO", "UNICEF", "LASER", "SCUBA", "RADAR", "GIF", "JPEG", "OPEC"].contains(letters)
    }

    /// Numbers: "an 8", "an 11", "an 18", "an 80", "an 800", but "a 1", "a 20", "a 100".
    private static func numberTakesAn(_ word: String) -> Bool {
        let digits = String(word.prefix { $0.isNumber })
        guard let value = Int(digits) else { return false }
        if digits.hasPrefix("8") { return true }
        // 11 and 18 (and 11,000 / 18,000 …) are read "eleven", "eighteen".
        var leading = value
        while leading >= 1000 { leading /= 1000 }
        return leading == 11 || leading == 18
    }
}
