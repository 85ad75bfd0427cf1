/// A prompt cut into words and the text between them, losslessly: concatenating every token's
/// text gives the prompt back. Templates keep the in-between text verbatim, which is how
/// punctuation and spacing survive rendering.
struct PromptTokens {
    struct Token {
        /// The exact text.
        var text: String
        /// A word (letters/digits with inner hyphens or apostrophes) rather than space or punctuation.
        var isWord: Bool
        /// `text` lower-cased, for case-insensitive lexicon look-ups.
        var lower: String
    }

    private(set) var tokens: [Token] = []
    /// Indices into `tokens` of the word tokens, in order.
    private(set) var wordIndices: [Int] = []

    init(_ prompt: String) {
        let characters = Array(prompt)
        var index = 0
        func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber }
        func isJoiner(_ c: Character) -> Bool { c == "-" || c == "'" || c == "\u{2019}" }
        while index < characters.count {
            let start = index
            if isWordCharacter(characters[index]) {
                index += 1
                while index < characters.count {
                    if isWordCharacter(characters[index]) {
                        index += 1
                    } else if isJoiner(characters[index]) {
                        // An inner joiner stays in the word ("18-year-old", "o'clock"); a trailing
                        // apostrophe is a plural possessive ("girls'") and stays too.
                        if index + 1 < characters.count, isWordCharacter(characters[index + 1]) {
                            index += 2
                        } else if characters[index] != "-" {
                            index += 1
                            break
                        } else {
                            break
                        }
                    } else {
                        break
                    }
                }
                append(String(characters[start..<index]), isWord: true)
            } else {
                index += 1
                while index < characters.count, !isWordCharacter(characters[index]) { index += 1 }
                append(String(characters[start..<index]), isWord: false)
            }
        }
    }

    private mutating func append(_ text: String, isWord: Bool) {
        if isWord { wordIndices.append(tokens.count) }
        tokens.append(Token(text: text, isWord: isWord, lower: text.lowercased()))
    }

    /// Word position (index into `wordIndices`) → whether only spaces separate it from the next word.
    func spaceOnlyAfter(word position: Int) -> Bool {
        guard position + 1 < wordIndices.count else { return false }
        let between = wordIndices[position] + 1..<wordIndices[position + 1]
        return between.allSatisfy { tokens[$0].text.allSatisfy { $0 == " " || $0 == "\t" } }
    }

    /// The lower-cased word at a word position.
    func word(_ position: Int) -> String { tokens[wordIndices[position]].lower }
    /// The original word at a word position.
    func original(_ position: Int) -> String { tokens[wordIndices[position]].text }
    var wordCount: Int { wordIndices.count }
}

/// Splits an English possessive or contraction ("woman's", "girls'", "he's") into the base word
/// and the suffix, so the base can be looked up and swapped while the suffix is kept.
func splitPossessive(_ word: String) -> (base: String, suffix: String) {
    for suffix in ["'s", "\u{2019}s", "'", "\u{2019}"] where word.count > suffix.count && word.hasSuffix(suffix) {
        return (String(word.dropLast(suffix.count)), String(word.suffix(suffix.count)))
    }
    return (word, "")
}
