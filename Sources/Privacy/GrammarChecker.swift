/// Rule checks a candidate must pass so that no candidate is the odd one out by grammar: an
/// adversary's first distinguisher. Used by the tests on every candidate and by the audit.
public struct GrammarChecker: Sendable {
    /// One broken rule in a text.
    public struct Violation: Equatable, Sendable, CustomStringConvertible {
        public var rule: String
        public var detail: String
        public var description: String { "\(rule): \(detail)" }
    }

    private let lexicon: Lexicon

    public init(taxonomy: Taxonomy) { lexicon = Lexicon(taxonomy) }

    static let singularDeterminers: Set<String> = ["a", "an", "one", "each", "every", "this", "that"]
    static let pluralDeterminers: Set<String> = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                                 "several", "many", "these", "those", "both", "few"]

    /// Every violation in `text`.
    public func check(_ text: String) -> [Violation] {
        let tokens = PromptTokens(text)
        var violations: [Violation] = []
        let shouting = IndefiniteArticle.isShouting(text)
        // Articles agree with the next word's pronunciation.
        for position in 0..<tokens.wordCount where ["a", "an"].contains(tokens.word(position)) && tokens.spaceOnlyAfter(word: position) {
            let next = tokens.original(position + 1)
            let expected = IndefiniteArticle.takesAn(next, shouting: shouting) ? "an" : "a"
            if tokens.word(position) != expected {
                violations.append(Violation(rule: "article", detail: "\"\(tokens.original(position)) \(next)\" should use \"\(expected)\""))
            }
        }
        // No word doubled ("Asian Asian").
        for position in 0..<max(0, tokens.wordCount - 1) where tokens.spaceOnlyAfter(word: position)
            && tokens.word(position) == tokens.word(position + 1) && tokens.word(position).contains(where: \.isLetter) {
            violations.append(Violation(rule: "repeated word", detail: "\"\(tokens.original(position)) \(tokens.original(position + 1))\""))
        }
        // Pronoun case: an object-only form ("him") cannot determine a person's noun phrase
        // ("him daughter"), and a possessive-only pronoun ("hers") stands alone ("hers hat").
        for position in 0..<max(0, tokens.wordCount - 1) where tokens.spaceOnlyAfter(word: position) {
            guard let roles = lexicon.pronouns[tokens.word(position)].map({ Set($0.map(\.role)) }) else { continue }
            let next = splitPossessive(tokens.word(position + 1)).base
            let startsPersonPhrase = lexicon.nouns[next] != nil || !lexicon.forms(endingAt: position + 1, in: tokens).isEmpty
            if (roles == [.object] && startsPersonPhrase) || (roles == [.possessivePronoun] && !AttributeDetector.functionWords.contains(next)) {
                violations.append(Violation(rule: "pronoun case", detail: "\"\(tokens.original(position)) \(tokens.original(position + 1))\""))
            }
        }
        let detection = AttributeDetector(lexicon: lexicon).detect(text)
        // One value per attribute per person: no "woman … his", no "young man aged 70".
        for (slot, values) in zip(detection.template.slots, detection.carrierValues) where Set(values).count > 1 {
            let attribute = lexicon.taxonomy.attributes[slot.attribute]
            let names = values.map { attribute.values[$0].name }
            violations.append(Violation(rule: "\(attribute.name) agreement",
                                        detail: "person \"\(detection.personLabels[slot.person])\" is given \(names.joined(separator: " and "))"))
        }
        // Number: "a" with a singular noun, "two" with a plural one.
        for head in detection.heads {
            var position = head.position - 1
            while position >= 0, tokens.spaceOnlyAfter(word: position) {
                let word = tokens.word(position)
                if Self.singularDeterminers.contains(word) || Self.pluralDeterminers.contains(word) {
                    if head.plural == Self.singularDeterminers.contains(word) {
                        violations.append(Violation(rule: "number agreement",
                                                    detail: "\"\(tokens.original(position))\" with \"\(tokens.original(head.position))\""))
                    }
                    break
                }
                if AttributeDetector.runStoppers.contains(word) || head.position - position > 4 { break }
                position -= 1
            }
        }
        return violations
    }
}
