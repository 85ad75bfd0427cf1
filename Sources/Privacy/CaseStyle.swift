/// How a word was capitalised in the prompt, so its replacement is written the same way
/// ("Woman" → "Man", "WOMAN" → "MAN").
enum CaseStyle: String, Codable, Equatable {
    case lower, capitalized, upper

    /// The style of an original word: all capitals (two or more letters), a leading capital, or lower.
    init(of text: String) {
        let letters = text.filter(\.isLetter)
        if letters.count >= 2, letters.allSatisfy(\.isUppercase) {
            self = .upper
        } else if let first = letters.first, first.isUppercase {
            self = .capitalized
        } else {
            self = .lower
        }
    }

    /// Writes `text` (a lexicon form) in this style. Lower leaves the form as the taxonomy spells it
    /// (so "CEO" or "Asian" keep their capitals); capitalised upper-cases the first letter only.
    func apply(to text: String) -> String {
        switch self {
        case .lower: return text
        case .upper: return text.uppercased()
        case .capitalized:
            guard let first = text.first else { return text }
            return first.uppercased() + text.dropFirst()
        }
    }
}
