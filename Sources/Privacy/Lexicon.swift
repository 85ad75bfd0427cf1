/// The taxonomy compiled into look-up tables keyed by lower-cased words, built once per
/// `Obfuscator`. Every table is a pure function of the taxonomy, never of a prompt.
struct Lexicon {
    /// A person noun form.
    struct Noun {
        /// Index into `taxonomy.genderedNouns`, nil for a gender-neutral noun.
        var gendered: Int?
        /// Index of the gender value this form expresses (gendered nouns only).
        var genderValue: Int?
        var plural: Bool
    }

    /// An attribute surface form, possibly several words ("middle aged", "South Asian").
    struct Form {
        var words: [String]
        var attribute: Int
        var value: Int
    }

    /// What a pronoun form can be, per gender value.
    struct PronounForm {
        var genderValue: Int
        var role: PronounRole
    }

    let taxonomy: Taxonomy
    let genderAttribute: Int?
    let ageAttribute: Int?
    private(set) var nouns: [String: Noun] = [:]
    /// Forms by their last word, longest first, so a backwards scan can match multi-word forms.
    private(set) var formsByLastWord: [String: [Form]] = [:]
    private(set) var pronouns: [String: [PronounForm]] = [:]
    /// Revealing phrases by first word; `caseSensitive` when the taxonomy spells them capitalised.
    private(set) var revealing: [String: [(words: [String], entry: Int, caseSensitive: Bool)]] = [:]
    let places: Set<String>
    let firstNames: Set<String>
    /// The attribute whose values the first-name list's culture groups express (nil: no name slots).
    let nameCulture: Int?
    /// Lower-cased slot-able first name → (gender value, culture value).
    private(set) var names: [String: (gender: Int, culture: Int)] = [:]
    /// [gender value][culture value] → the names candidates are rendered with, most frequent first.
    private(set) var renderedNames: [[[String]]] = []
    /// Lower-cased ambiguous forms per attribute index (colour words).
    let ambiguousForms: [Set<String>]
    /// Per attribute, words that start a multi-word form whose rest is a canonical form
    /// ("south" of "South Asian"); a slot swallows them (see `init`).
    private(set) var absorbedPrefixes: [Int: Set<String>] = [:]

    init(_ taxonomy: Taxonomy) {
        self.taxonomy = taxonomy
        genderAttribute = taxonomy.attributes.firstIndex { $0.role == .gender }
        ageAttribute = taxonomy.attributes.firstIndex { $0.role == .age }
        places = Set(taxonomy.places)
        firstNames = Set(taxonomy.firstNames)
        ambiguousForms = taxonomy.attributes.map { Set(($0.ambiguousForms ?? []).map { $0.lowercased() }) }
        let genderValues = genderAttribute.map { taxonomy.attributes[$0].values.map(\.name) } ?? []
        for pair in taxonomy.neutralNouns {
            nouns[pair[0].lowercased()] = Noun(gendered: nil, genderValue: nil, plural: false)
            if nouns[pair[1].lowercased()] == nil { nouns[pair[1].lowercased()] = Noun(gendered: nil, genderValue: nil, plural: true) }
        }
        for (index, noun) in taxonomy.genderedNouns.enumerated() {
            for (valueIndex, valueName) in genderValues.enumerated() {
                guard let forms = noun.forms[valueName] else { continue }
                nouns[forms[0].lowercased()] = Noun(gendered: index, genderValue: valueIndex, plural: false)
                nouns[forms[1].lowercased()] = Noun(gendered: index, genderValue: valueIndex, plural: true)
            }
        }
        for (attributeIndex, attribute) in taxonomy.attributes.enumerated() {
            for (valueIndex, value) in attribute.values.enumerated() {
                for form in value.forms {
                    let words = Lexicon.words(of: form)
                    guard let last = words.last else { continue }
                    formsByLastWord[last, default: []].append(Form(words: words, attribute: attributeIndex, value: valueIndex))
                }
            }
        }
        for key in formsByLastWord.keys { formsByLastWord[key]!.sort { $0.words.count > $1.words.count } }
        // "South" in "South African": rendering "Asian" after it would read back as "South Asian",
        // so such a word is taken into the slot whenever it precedes a form of its attribute.
        var prefixes: [Int: Set<String>] = [:]
        for forms in formsByLastWord.values {
            for form in forms where form.words.count > 1 {
                let tail = Array(form.words.dropFirst())
                let canonicals = taxonomy.attributes[form.attribute].values.map { Lexicon.words(of: $0.forms[0]) }
                if canonicals.contains(tail) { prefixes[form.attribute, default: []].insert(form.words[0]) }
            }
        }
        absorbedPrefixes = prefixes
        for (valueIndex, valueName) in genderValues.enumerated() {
            guard let set = taxonomy.pronouns[valueName] else { continue }
            for (text, role) in [(set.subject, PronounRole.subject), (set.object, .object), (set.possessive, .possessive),
                                 (set.possessivePronoun, .possessivePronoun), (set.reflexive, .reflexive)] {
                let key = text.lowercased()
                if !(pronouns[key]?.contains { $0.genderValue == valueIndex && $0.role == role } ?? false) {
                    pronouns[key, default: []].append(PronounForm(genderValue: valueIndex, role: role))
                }
            }
        }
        for (entryIndex, entry) in taxonomy.revealingWords.enumerated() {
            for phrase in entry.words {
                let words = Lexicon.words(of: phrase)
                guard let first = words.first else { continue }
                let caseSensitive = phrase.first?.isUppercase ?? false
                revealing[first, default: []].append((words, entryIndex, caseSensitive))
            }
        }
        nameCulture = taxonomy.firstNameList == nil ? nil : taxonomy.attributes.firstIndex { $0.values.contains { $0.nameGroups != nil } }
        if let culture = nameCulture, let list = taxonomy.firstNameList {
            let cultureValues = taxonomy.attributes[culture].values
            renderedNames = genderValues.map { _ in cultureValues.map { _ in [] } }
            let placeWords = Set(taxonomy.places.map { $0.lowercased() })
            for entry in list.names {
                let key = entry.name.lowercased()
                // A name must mean nothing else, or reading a candidate back could change its role.
                guard nouns[key] == nil, formsByLastWord[key] == nil, pronouns[key] == nil, revealing[key] == nil,
                      !placeWords.contains(key), names[key] == nil,
                      let gender = genderValues.firstIndex(of: entry.gender),
                      let value = cultureValues.firstIndex(where: { $0.nameGroups?.contains(entry.group) ?? false })
                else { continue }
                names[key] = (gender, value)
                if cultureValues[value].nameGroups?.first == entry.group { renderedNames[gender][value].append(entry.name) }
            }
        }
    }

    /// The lower-cased words of a phrase as the prompt tokenizer would cut them.
    static func words(of phrase: String) -> [String] {
        let tokens = PromptTokens(phrase)
        return tokens.wordIndices.map { tokens.tokens[$0].lower }
    }

    /// The attribute forms that end at word position `end` (longest first), checking that a
    /// multi-word form's words are separated by spaces only.
    func forms(endingAt end: Int, in tokens: PromptTokens) -> [Form] {
        guard let candidates = formsByLastWord[tokens.word(end)] else { return [] }
        return candidates.filter { form in
            let start = end - form.words.count + 1
            guard start >= 0 else { return false }
            for offset in 0..<form.words.count where tokens.word(start + offset) != form.words[offset] { return false }
            for position in start..<end where !tokens.spaceOnlyAfter(word: position) { return false }
            return true
        }
    }

    /// The form of `value` of `attribute` that candidates are rendered with.
    func canonicalForm(attribute: Int, value: Int) -> String { taxonomy.attributes[attribute].values[value].forms[0] }
}

/// The grammatical role of a pronoun occurrence. "her" is object or possessive and "his" is
/// possessive determiner or pronoun; the role is decided from the context, never from which
/// gender's word the prompt used, so every candidate is read back with the same role.
enum PronounRole: String, Codable, Equatable {
    case subject, object, possessive, possessivePronoun, reflexive

    func form(in set: Taxonomy.PronounSet) -> String {
        switch self {
        case .subject: return set.subject
        case .object: return set.object
        case .possessive: return set.possessive
        case .possessivePronoun: return set.possessivePronoun
        case .reflexive: return set.reflexive
        }
    }
}
