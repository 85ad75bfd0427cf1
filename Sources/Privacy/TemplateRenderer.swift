/// Renders a template for one assignment of slot values. The same function renders every
/// candidate, the real one included, so no candidate differs from the others in anything but
/// its values: articles, pronouns, noun number and capitalisation are all recomputed.
struct TemplateRenderer {
    let lexicon: Lexicon

    /// Decade words for spelled-out ages ("in his forties").
    static let decadeWords: [(word: String, decade: Int)] = [
        ("teens", 10), ("twenties", 20), ("thirties", 30), ("forties", 40), ("fifties", 50),
        ("sixties", 60), ("seventies", 70), ("eighties", 80), ("nineties", 90),
    ]

    func render(_ template: PromptTemplate, values: [Int]) -> String { renderPieces(template, values: values).joined() }

    /// The rendered text of each piece of the template (literals as they are).
    func renderPieces(_ template: PromptTemplate, values: [Int]) -> [String] {
        let taxonomy = lexicon.taxonomy
        func value(_ slot: Int) -> Int { values[slot] }
        func attribute(_ slot: Int) -> Taxonomy.Attribute { taxonomy.attributes[template.slots[slot].attribute] }
        var namesSoFar = 0
        var texts: [String] = template.pieces.map { piece in
            switch piece {
            case let .literal(text): return text
            case .article: return ""
            case let .genderedNoun(slot, noun, plural, suffix, style):
                let valueName = attribute(slot).values[value(slot)].name
                let forms = taxonomy.genderedNouns[noun].forms[valueName]!
                return style.apply(to: forms[plural ? 1 : 0]) + suffix
            case let .attributeForm(slot, style):
                return style.apply(to: attribute(slot).values[value(slot)].forms[0])
            case let .numericAge(slot, decade, suffix):
                let age = attribute(slot).values[value(slot)].representativeAge!
                return String(decade ? age / 10 * 10 : age) + suffix
            case let .decadeWord(slot, style):
                let decade = attribute(slot).values[value(slot)].representativeAge! / 10 * 10
                return style.apply(to: Self.decadeWords.first { $0.decade == decade }?.word ?? "\(decade)s")
            case let .pronoun(slot, role, suffix, style):
                let set = taxonomy.pronouns[attribute(slot).values[value(slot)].name]!
                return style.apply(to: role.form(in: set)) + suffix
            case let .firstName(slot, cultureSlot, suffix, style):
                let names = lexicon.renderedNames[value(slot)][value(cultureSlot)]
                defer { namesSoFar += 1 }
                return style.apply(to: names[namesSoFar % names.count]) + suffix
            }
        }
        let shouting = IndefiniteArticle.isShouting(texts.joined())
        for (index, piece) in template.pieces.enumerated() {
            guard case let .article(style) = piece else { continue }
            let next = texts[(index + 1)...].first { $0.contains { $0.isLetter || $0.isNumber } } ?? ""
            let word = String(next.drop { !($0.isLetter || $0.isNumber) }.prefix { !$0.isWhitespace })
            let nextIsUpper = CaseStyle(of: word) == .upper
            texts[index] = IndefiniteArticle.article(before: word, style: nextIsUpper && style != .lower ? .upper : style, shouting: shouting)
        }
        return texts
    }
}
