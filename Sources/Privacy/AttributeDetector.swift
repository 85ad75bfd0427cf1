/// Finds the people in a prompt and every word that carries one of their sensitive attributes,
/// and turns the prompt into a `PromptTemplate`.
///
/// Lexicon plus syntax: an attribute word counts only when it describes a person (it stands in
/// the modifier run before a person noun, or in an age phrase or pronoun tied to one), which is
/// what separates "a black woman" from "a black dress". Every rule looks at word classes and
/// positions, never at which value a word expresses, so detection recall is the same for every
/// value of a domain, and a candidate is read back into exactly the template it came from.
struct AttributeDetector {
    /// The detector's result for one prompt.
    struct Result {
        var template: PromptTemplate
        /// The prompt's own value per slot.
        var realValues: [Int]
        var unhidden: [UnhiddenWord]
        /// Human-readable notes about choices made (e.g. pronouns re-tied to a person).
        var notes: [String]
        /// For each person, the head word as written (or the first pronoun), for reports.
        var personLabels: [String]
        /// Per slot, the value each of its words expresses (they disagree in "a woman … his").
        var carrierValues: [[Int]]
        /// Person heads: word position, whether plural.
        var heads: [(position: Int, plural: Bool)]
        /// Per template piece, the prompt's own text it replaces (nil for literal pieces).
        var originals: [String?]
        /// Where the words rendered from slots (and recomputed articles) are in the prompt.
        var highlights: [PromptHighlight]
    }

    let lexicon: Lexicon

    /// Words that end a noun phrase's modifier run when scanning backwards from the noun.
    static let runStoppers: Set<String> = [
        "a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every", "no", "my", "your", "our", "its",
        "their", "his", "her", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "several",
        "many", "few", "both", "all", "of", "in", "on", "at", "with", "by", "for", "from", "to", "into", "onto", "near",
        "under", "over", "behind", "beside", "between", "as", "like", "and", "or", "but", "nor", "while", "is", "are", "was",
        "were", "be", "being", "been", "has", "have", "had", "who", "which", "whose", "than", "then", "not", "without",
    ]

    /// Words after which "her"/"him"/"his"/"hers" ends its phrase, so it is not a possessive
    /// determiner. Every pronoun form is one, so a following pronoun slot reads the same
    /// whichever gender it is rendered in.
    static let functionWords: Set<String> = runStoppers.union([
        "he", "she", "him", "hers", "himself", "herself", "they", "them", "themselves", "it", "we", "us", "you", "me", "i",
        "up", "down", "out", "off", "back", "again", "now", "here", "there", "away", "around", "through", "across",
        "during", "after", "before", "because", "if", "although", "against", "toward", "towards", "within", "along",
        "above", "below", "so", "too", "very", "alone", "will", "would", "can", "could", "should", "may", "might",
        "must", "do", "does", "did", "where", "when", "how", "why", "what", "yet", "also", "too", "either",
    ])

    /// Verbs that take "her" as an indirect object before a noun ("give her flowers").
    static let ditransitiveVerbs: Set<String> = [
        "give", "gives", "gave", "giving", "show", "shows", "showed", "showing", "tell", "tells", "told", "telling",
        "hand", "hands", "handed", "handing", "buy", "buys", "bought", "buying", "offer", "offers", "offered", "offering",
        "bring", "brings", "brought", "bringing", "send", "sends", "sent", "sending", "teach", "teaches", "taught",
        "teaching", "let", "lets", "letting", "make", "makes", "made", "making", "help", "helps", "helped", "helping",
        "call", "calls", "called", "calling", "ask", "asks", "asked", "asking", "pay", "pays", "paid", "paying",
    ]

    /// Determiners that open a second object after an indirect one ("give her daughter a hug").
    static let objectDeterminers: Set<String> = ["a", "an", "the", "some", "this", "that", "these", "those", "one", "two", "three"]

    /// Number-word suffixes that make a token a self-contained age ("18-year-old", "30yo").
    static let ageTokenSuffixes = ["-year-old", "-years-old", "-yr-old", "-yo", "yo", "-year-olds"]

    // MARK: Working state

    private struct Mention {
        var anchor: Int
        /// Head noun position, nil for a person known only from pronouns.
        var head: Int?
        var noun: Lexicon.Noun?
        var label: String
        /// Pieces by attribute index: (first word position, last word position, piece, value).
        var carriers: [Int: [Carrier]] = [:]
        var pinned: [Int: Int] = [:]
    }

    private struct Carrier {
        /// Token index range covered by the piece.
        var tokens: ClosedRange<Int>
        /// Nil for a carrier that only gives a value: a first name's culture, rendered by the
        /// name's own piece.
        var piece: PromptTemplate.Piece?
        var value: Int
        /// Pronouns lose to nouns and adjectives when deciding a person's real value.
        var isPronoun: Bool
    }

    func detect(_ prompt: String) -> Result {
        let tokens = PromptTokens(prompt)
        var consumed = Set<Int>()  // word positions used by slots or age phrases
        var mentions: [Mention] = []
        var notes: [String] = []
        var unhidden: [UnhiddenWord] = []
        let taxonomy = lexicon.taxonomy

        func nounAt(_ position: Int) -> (noun: Lexicon.Noun, suffix: String)? {
            let (base, suffix) = splitPossessive(tokens.word(position))
            guard let noun = lexicon.nouns[base] else { return nil }
            return (noun, suffix)
        }
        func tokenRange(_ first: Int, _ last: Int) -> ClosedRange<Int> { tokens.wordIndices[first]...tokens.wordIndices[last] }
        func style(_ position: Int) -> CaseStyle { CaseStyle(of: tokens.original(position)) }

        // 1. Person heads: a person noun not directly followed by another person noun.
        for position in 0..<tokens.wordCount {
            guard let (noun, _) = nounAt(position) else { continue }
            if tokens.spaceOnlyAfter(word: position), nounAt(position + 1) != nil, splitPossessive(tokens.word(position)).suffix.isEmpty {
                continue  // a modifier noun ("woman doctor"), taken by the head's run below
            }
            var mention = Mention(anchor: position, head: position, noun: noun, label: tokens.original(position))
            if let gendered = noun.gendered, let gender = lexicon.genderAttribute, let value = noun.genderValue {
                let (_, suffix) = splitPossessive(tokens.original(position))
                let piece = PromptTemplate.Piece.genderedNoun(slot: gender, noun: gendered, plural: noun.plural, suffix: suffix, style: style(position))
                mention.carriers[gender, default: []].append(Carrier(tokens: tokenRange(position, position), piece: piece, value: value, isPronoun: false))
                for (attributeName, valueName) in taxonomy.genderedNouns[gendered].implies ?? [:] {
                    if let attribute = taxonomy.attributes.firstIndex(where: { $0.name == attributeName }),
                       let implied = taxonomy.attributes[attribute].values.firstIndex(where: { $0.name == valueName }) {
                        mention.pinned[attribute] = implied
                    }
                }
            }
            consumed.insert(position)
            scanModifierRun(before: position, tokens: tokens, into: &mention, consumed: &consumed, unhidden: &unhidden)
            mentions.append(mention)
        }

        // 1b. First names (gender and culture carriers of the person they name, or persons of
        //     their own) and place names (slots of their own, tied to no person).
        findFirstNames(tokens: tokens, mentions: &mentions, consumed: &consumed)
        findPlaces(tokens: tokens, mentions: &mentions, consumed: &consumed)

        // 2. Ages after the noun: "a man aged 70", "a woman, 30 years old", "in her 40s".
        for position in 0..<tokens.wordCount where !consumed.contains(position) {
            guard let age = postNominalAge(at: position, tokens: tokens) else { continue }
            let owner: Int?
            if let pronoun = age.pronoun {
                owner = nearestMention(to: pronoun, in: mentions, pluralAllowed: tokens.word(pronoun) == "their")
            } else {
                // Close after the noun only ("a man aged 70", "a woman, 30 years old"), so a
                // later "100-year-old tree" is not taken for the person's age.
                owner = mentions.lastIndex { $0.head != nil && $0.anchor < position && position - $0.anchor <= 3 }
            }
            guard let owner else { continue }
            attachAge(age, to: &mentions[owner], tokens: tokens, consumed: &consumed, unhidden: &unhidden)
        }

        // 3. Pronouns, tied by role and position (never by gender) to a singular person. The
        //    rules read roles and positions only, so every candidate is read back the same way.
        if let gender = lexicon.genderAttribute {
            var pronounOnly: Int?
            var subjects: [(position: Int, owner: Int)] = []
            for position in 0..<tokens.wordCount where !consumed.contains(position) {
                let (base, _) = splitPossessive(tokens.word(position))
                guard let forms = lexicon.pronouns[base] else { continue }
                let role = pronounRole(at: position, base: base, tokens: tokens, forms: forms, consumed: consumed)
                let value = forms.first { $0.role == role }?.genderValue ?? forms[0].genderValue
                var owner: Int?
                switch role {
                case .possessive:
                    // A possessive determiner never refers to the person it determines ("her
                    // son": not the son), so it looks back only.
                    owner = nearestMention(before: position, in: mentions, pluralAllowed: false)
                case .object:
                    // An object pronoun is not its own clause's subject ("a man looking at her",
                    // "she throws him a ball"): the nearest person named or referred to as a
                    // subject before it is skipped.
                    let named = mentions.indices.filter { mentions[$0].head != nil && mentions[$0].anchor < position }
                        .map { (position: mentions[$0].anchor, owner: $0) }
                    let subject = (named + subjects.filter { $0.position < position }).max { $0.position < $1.position }?.owner
                    owner = nearestMention(before: position, in: mentions, pluralAllowed: false, excluding: subject)
                case .subject, .possessivePronoun, .reflexive:
                    owner = nearestMention(to: position, in: mentions, pluralAllowed: false)
                }
                // With nobody to refer to, the pronoun is a person of its own.
                if owner == nil {
                    if pronounOnly == nil {
                        mentions.append(Mention(anchor: position, head: nil, noun: nil, label: tokens.original(position)))
                        pronounOnly = mentions.count - 1
                    }
                    owner = pronounOnly
                }
                let (_, suffix) = splitPossessive(tokens.original(position))
                let piece = PromptTemplate.Piece.pronoun(slot: gender, role: role, suffix: suffix, style: style(position))
                mentions[owner!].carriers[gender, default: []].append(
                    Carrier(tokens: tokenRange(position, position), piece: piece, value: value, isPronoun: true))
                if role == .subject { subjects.append((position, owner!)) }
                consumed.insert(position)
            }
        }

        // 4. Slots in canonical order: persons by first appearance, attributes in taxonomy order.
        mentions.sort { $0.anchor < $1.anchor }
        var slots: [PromptTemplate.Slot] = []
        var realValues: [Int] = []
        var pieceAt: [Int: (last: Int, piece: PromptTemplate.Piece)] = [:]
        var labels: [String] = []
        var carrierValues: [[Int]] = []
        for mention in mentions {
            var hasSlot = false
            let slotted = taxonomy.attributes.indices.filter { !(mention.carriers[$0]?.isEmpty ?? true) }
            let slotOf = Dictionary(uniqueKeysWithValues: slotted.enumerated().map { ($0.element, slots.count + $0.offset) })
            for attribute in slotted {
                let carriers = mention.carriers[attribute]!
                let slotIndex = slots.count
                slots.append(.init(person: labels.count, attribute: attribute, domainSize: taxonomy.attributes[attribute].values.count))
                let decisive = carriers.first { !$0.isPronoun } ?? carriers[0]
                realValues.append(decisive.value)
                carrierValues.append(carriers.map(\.value))
                for carrier in carriers {
                    if let piece = carrier.piece {
                        pieceAt[carrier.tokens.lowerBound] = (carrier.tokens.upperBound, piece.withSlot(slotIndex) { slotOf[$0]! })
                    }
                    if carrier.isPronoun, carrier.value != decisive.value {
                        notes.append("the pronoun \"\(tokens.tokens[carrier.tokens.lowerBound].text)\" is tied to \"\(mention.label)\" and is rendered to agree with it")
                    }
                }
                hasSlot = true
            }
            for (attribute, value) in mention.pinned.sorted(by: { $0.key < $1.key }) {
                let attributeName = taxonomy.attributes[attribute].name
                unhidden.append(UnhiddenWord(word: mention.label, kind: .impliedByNoun, reveals: [attributeName],
                                             why: "\"\(mention.label)\" implies \(attributeName) \(taxonomy.attributes[attribute].values[value].name)"))
            }
            if hasSlot { labels.append(mention.label) }
        }

        // 5. Articles directly before a slot word are recomputed for every candidate.
        for position in 0..<tokens.wordCount where ["a", "an"].contains(tokens.word(position)) && tokens.spaceOnlyAfter(word: position) {
            guard pieceAt[tokens.wordIndices[position + 1]] != nil, pieceAt[tokens.wordIndices[position]] == nil else { continue }
            let token = tokens.wordIndices[position]
            // "A" and "AN" differ in style only by length; the renderer upper-cases an article
            // before an upper-case word, so keep just lower vs capitalised.
            let articleStyle: CaseStyle = style(position) == .lower ? .lower : .capitalized
            pieceAt[token] = (token, .article(style: articleStyle))
        }

        // 6. The pieces, with literal text in between.
        var pieces: [PromptTemplate.Piece] = []
        var originals: [String?] = []
        var highlights: [PromptHighlight] = []
        var literal = ""
        var index = 0
        var offsets = [0]  // UTF-16 offset of each token, for highlights
        for token in tokens.tokens { offsets.append(offsets.last! + token.text.utf16.count) }
        while index < tokens.tokens.count {
            if let (last, piece) = pieceAt[index] {
                if !literal.isEmpty { pieces.append(.literal(literal)); originals.append(nil); literal = "" }
                pieces.append(piece)
                originals.append(tokens.tokens[index...last].map(\.text).joined())
                highlights.append(PromptHighlight(start: offsets[index], end: offsets[last + 1],
                                                  text: tokens.tokens[index...last].map(\.text).joined(), slot: piece.slot))
                index = last + 1
            } else {
                literal += tokens.tokens[index].text
                index += 1
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)); originals.append(nil) }

        unhidden += findUnhiddenWords(tokens: tokens, consumed: consumed)
        return Result(template: PromptTemplate(pieces: pieces, slots: slots), realValues: realValues,
                      unhidden: unhidden, notes: notes, personLabels: labels, carrierValues: carrierValues,
                      heads: mentions.compactMap { mention in mention.head.map { ($0, mention.noun?.plural ?? false) } },
                      originals: originals, highlights: highlights)
    }

    // MARK: First names

    /// Words that give the preceding person a name.
    static let namingWords: Set<String> = ["named", "called"]

    /// Turns each capitalised first name of the list into gender and culture carriers. A name
    /// next to another capitalised word ("Maria Callas", "Lake Victoria") is a full or proper
    /// name and is left alone (reported as a name), since swapping half of it would still point
    /// at one real person.
    private func findFirstNames(tokens: PromptTokens, mentions: inout [Mention], consumed: inout Set<Int>) {
        guard let gender = lexicon.genderAttribute, let culture = lexicon.nameCulture else { return }
        func capitalised(_ position: Int) -> Bool { tokens.original(position).first?.isUppercase ?? false }
        let shouting = IndefiniteArticle.isShouting(tokens.tokens.map(\.text).joined())
        for position in 0..<tokens.wordCount where !consumed.contains(position) && capitalised(position) {
            let (base, _) = splitPossessive(tokens.word(position))
            guard let name = lexicon.names[base] else { continue }
            // In a text in capitals every word is capitalised; elsewhere a capitalised neighbour
            // (other than the prompt's first word) makes a proper name of several words.
            if !shouting, (tokens.spaceOnlyAfter(word: position) && capitalised(position + 1))
                || (position > 1 && tokens.spaceOnlyAfter(word: position - 1) && capitalised(position - 1)) { continue }
            let (_, suffix) = splitPossessive(tokens.original(position))
            let token = tokens.wordIndices[position]
            let piece = PromptTemplate.Piece.firstName(slot: gender, cultureSlot: culture, suffix: suffix, style: CaseStyle(of: tokens.original(position)))
            var owner = namedPerson(of: position, tokens: tokens, mentions: mentions)
            if owner == nil {
                mentions.append(Mention(anchor: position, head: position, noun: Lexicon.Noun(gendered: nil, genderValue: nil, plural: false),
                                        label: tokens.original(position)))
                owner = mentions.count - 1
            }
            mentions[owner!].carriers[gender, default: []].append(Carrier(tokens: token...token, piece: piece, value: name.gender, isPronoun: false))
            if mentions[owner!].pinned[culture] == nil {
                mentions[owner!].carriers[culture, default: []].append(Carrier(tokens: token...token, piece: nil, value: name.culture, isPronoun: false))
            }
            consumed.insert(position)
        }
    }

    /// Each capitalised place name of a place-role attribute is a slot of its own, tied to no
    /// person (so no pronoun refers to it).
    private func findPlaces(tokens: PromptTokens, mentions: inout [Mention], consumed: inout Set<Int>) {
        for position in 0..<tokens.wordCount where !consumed.contains(position) {
            guard let form = lexicon.forms(endingAt: position, in: tokens).first(where: { lexicon.taxonomy.attributes[$0.attribute].role == .place })
            else { continue }
            let first = position - form.words.count + 1
            guard (first...position).allSatisfy({ !consumed.contains($0) && (tokens.original($0).first?.isUppercase ?? false) }) else { continue }
            let label = (first...position).map { tokens.original($0) }.joined(separator: " ")
            var mention = Mention(anchor: first, head: nil, noun: nil, label: label)
            let range = tokens.wordIndices[first]...tokens.wordIndices[position]
            mention.carriers[form.attribute] = [Carrier(tokens: range, piece: .attributeForm(slot: form.attribute, style: CaseStyle(of: tokens.original(first))),
                                                        value: form.value, isPronoun: false)]
            mentions.append(mention)
            for p in first...position { consumed.insert(p) }
        }
    }

    /// The person a name at `position` names, if the text says so: "a woman named Maria",
    /// "Maria, a young woman", "a young woman, Maria". Positions and punctuation only.
    private func namedPerson(of position: Int, tokens: PromptTokens, mentions: [Mention]) -> Int? {
        func separator(after word: Int) -> String? {
            word + 1 < tokens.wordCount ? tokens.tokens[tokens.wordIndices[word] + 1..<tokens.wordIndices[word + 1]].map(\.text).joined() : nil
        }
        if position > 0, tokens.spaceOnlyAfter(word: position - 1), Self.namingWords.contains(tokens.word(position - 1)) {
            return mentions.lastIndex { $0.head != nil && $0.anchor < position && position - $0.anchor <= 3 }
        }
        if position > 0, separator(after: position - 1) == ", " {
            if let before = mentions.lastIndex(where: { $0.head == position - 1 }) { return before }
        }
        if separator(after: position) == ", ", position + 1 < tokens.wordCount, ["a", "an"].contains(tokens.word(position + 1)) {
            return mentions.firstIndex { ($0.head ?? -1) > position + 1 && $0.head! <= position + 6 }
        }
        return nil
    }

    // MARK: Modifier run

    /// Walks back from a person noun over its modifiers ("an old smiling black woman"), taking
    /// attribute adjectives, numeric ages and modifier nouns. Forms of `adjacentOnly` attributes
    /// count only when nothing but attribute words separates them from the noun.
    private func scanModifierRun(before head: Int, tokens: PromptTokens, into mention: inout Mention, consumed: inout Set<Int>,
                                 unhidden: inout [UnhiddenWord]) {
        var position = head - 1
        var adjacent = true
        var skipped = 0
        func tokenRange(_ first: Int, _ last: Int) -> ClosedRange<Int> { tokens.wordIndices[first]...tokens.wordIndices[last] }
        while position >= 0, tokens.spaceOnlyAfter(word: position), !consumed.contains(position) {
            if let age = prenominalAge(endingAt: position, tokens: tokens) {
                if !attachAgeFromRun(age, to: &mention, tokens: tokens, consumed: &consumed) {
                    // Left as written: the noun already fixes the age, or no band holds it.
                    attachAge(age, to: &mention, tokens: tokens, consumed: &consumed, unhidden: &unhidden)
                }
                position = age.first - 1
                continue
            }
            let word = tokens.word(position)
            if let form = lexicon.forms(endingAt: position, in: tokens).first, lexicon.taxonomy.attributes[form.attribute].role != .place,
               adjacent || !(lexicon.taxonomy.attributes[form.attribute].adjacentOnly ?? false) {
                var first = position - form.words.count + 1
                if first > 0, tokens.spaceOnlyAfter(word: first - 1), !consumed.contains(first - 1),
                   lexicon.absorbedPrefixes[form.attribute]?.contains(tokens.word(first - 1)) ?? false {
                    first -= 1
                }
                let attribute = lexicon.taxonomy.attributes[form.attribute]
                if mention.pinned[form.attribute] == nil {
                    var style = CaseStyle(of: tokens.original(first))
                    if attribute.properAdjective ?? false, style == .lower { style = .capitalized }
                    mention.carriers[form.attribute, default: []].insert(
                        Carrier(tokens: tokenRange(first, position), piece: .attributeForm(slot: form.attribute, style: style),
                                value: form.value, isPronoun: false), at: 0)
                    for p in first...position { consumed.insert(p) }
                }
                position = first - 1
                continue
            }
            let (base, suffix) = splitPossessive(word)
            if position == head - 1, suffix.isEmpty, let noun = lexicon.nouns[base], let gendered = noun.gendered, !noun.plural,
               let gender = lexicon.genderAttribute, let value = noun.genderValue {
                // A modifier noun ("woman doctor") carries the head's gender.
                let piece = PromptTemplate.Piece.genderedNoun(slot: gender, noun: gendered, plural: false, suffix: "",
                                                              style: CaseStyle(of: tokens.original(position)))
                mention.carriers[gender, default: []].insert(Carrier(tokens: tokenRange(position, position), piece: piece, value: value, isPronoun: false), at: 0)
                consumed.insert(position)
                position -= 1
                continue
            }
            if Self.runStoppers.contains(word) || lexicon.nouns[base] != nil || lexicon.pronouns[base] != nil { return }
            skipped += 1
            if skipped > 2 { return }
            adjacent = false
            position -= 1
        }
    }

    // MARK: Ages

    private struct AgePhrase {
        /// First and last word positions of the phrase.
        var first: Int
        var last: Int
        /// Position of the word holding the number.
        var numberAt: Int
        var years: Int
        var decade: Bool
        var spelled: Bool
        var suffix: String
        /// The pronoun inside "in her 40s".
        var pronoun: Int?
    }

    /// Splits "18-year-old" / "40s" / "70" into the number and what follows it.
    private func number(in word: String) -> (Int, String)? {
        let digits = word.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3, let value = Int(digits) else { return nil }
        return (value, String(word.dropFirst(digits.count)))
    }

    /// An age written before the noun: "18-year-old", "18 year old", "18 years-old".
    private func prenominalAge(endingAt last: Int, tokens: PromptTokens) -> AgePhrase? {
        let word = tokens.word(last)
        if let (years, suffix) = number(in: word), Self.ageTokenSuffixes.contains(suffix) {
            return AgePhrase(first: last, last: last, numberAt: last, years: years, decade: false, spelled: false,
                             suffix: String(tokens.original(last).dropFirst(word.count - suffix.count)))
        }
        if ["year-old", "years-old"].contains(word), last >= 1, tokens.spaceOnlyAfter(word: last - 1),
           let (years, rest) = number(in: tokens.word(last - 1)), rest.isEmpty {
            return AgePhrase(first: last - 1, last: last, numberAt: last - 1, years: years, decade: false, spelled: false, suffix: "")
        }
        if word == "old", last >= 2, ["year", "years"].contains(tokens.word(last - 1)), tokens.spaceOnlyAfter(word: last - 1),
           tokens.spaceOnlyAfter(word: last - 2), let (years, rest) = number(in: tokens.word(last - 2)), rest.isEmpty {
            return AgePhrase(first: last - 2, last: last, numberAt: last - 2, years: years, decade: false, spelled: false, suffix: "")
        }
        return nil
    }

    /// An age phrase starting at `position` after a person: "aged 70", "age 70", "30 years old",
    /// "30-year-old", "in her 40s", "in his forties".
    private func postNominalAge(at position: Int, tokens: PromptTokens) -> AgePhrase? {
        let word = tokens.word(position)
        let count = tokens.wordCount
        if ["aged", "age"].contains(word), position + 1 < count, tokens.spaceOnlyAfter(word: position),
           let (years, rest) = number(in: tokens.word(position + 1)), rest.isEmpty {
            return AgePhrase(first: position, last: position + 1, numberAt: position + 1, years: years, decade: false, spelled: false, suffix: "")
        }
        if word == "in", position + 2 < count, ["his", "her", "their"].contains(tokens.word(position + 1)),
           tokens.spaceOnlyAfter(word: position), tokens.spaceOnlyAfter(word: position + 1) {
            let ageWord = tokens.word(position + 2)
            if let (years, rest) = number(in: ageWord), rest == "s" || rest == "'s", years % 10 == 0, years >= 10 {
                return AgePhrase(first: position, last: position + 2, numberAt: position + 2, years: years + 5, decade: true,
                                 spelled: false, suffix: String(tokens.original(position + 2).dropFirst(String(years).count)), pronoun: position + 1)
            }
            if let decade = TemplateRenderer.decadeWords.first(where: { $0.word == ageWord })?.decade {
                return AgePhrase(first: position, last: position + 2, numberAt: position + 2, years: decade + 5, decade: true,
                                 spelled: true, suffix: "", pronoun: position + 1)
            }
        }
        if let phrase = prenominalAge(endingAt: position, tokens: tokens), phrase.first == position { return phrase }
        if position + 2 < count, let phrase = prenominalAge(endingAt: position + 2, tokens: tokens), phrase.first == position { return phrase }
        if position + 1 < count, let phrase = prenominalAge(endingAt: position + 1, tokens: tokens), phrase.first == position { return phrase }
        return nil
    }

    /// The age band containing `years`, if any.
    private func band(of years: Int) -> Int? {
        guard let age = lexicon.ageAttribute else { return nil }
        return lexicon.taxonomy.attributes[age].values.firstIndex { $0.ageRange![0] <= years && years <= $0.ageRange![1] }
    }

    private func agePiece(_ phrase: AgePhrase, tokens: PromptTokens, attribute: Int) -> PromptTemplate.Piece {
        phrase.spelled
            ? .decadeWord(slot: attribute, style: CaseStyle(of: tokens.original(phrase.numberAt)))
            : .numericAge(slot: attribute, decade: phrase.decade, suffix: phrase.suffix)
    }

    /// Takes an age from a noun's modifier run; false if it cannot be a slot (left to the caller).
    private func attachAgeFromRun(_ phrase: AgePhrase, to mention: inout Mention, tokens: PromptTokens, consumed: inout Set<Int>) -> Bool {
        guard let age = lexicon.ageAttribute, mention.pinned[age] == nil, let value = band(of: phrase.years) else { return false }
        let token = tokens.wordIndices[phrase.numberAt]
        mention.carriers[age, default: []].insert(Carrier(tokens: token...token, piece: agePiece(phrase, tokens: tokens, attribute: age),
                                                          value: value, isPronoun: false), at: 0)
        for p in phrase.first...phrase.last { consumed.insert(p) }
        return true
    }

    private func attachAge(_ phrase: AgePhrase, to mention: inout Mention, tokens: PromptTokens, consumed: inout Set<Int>, unhidden: inout [UnhiddenWord]) {
        guard let age = lexicon.ageAttribute else { return }
        let text = (phrase.first...phrase.last).map { tokens.original($0) }.joined(separator: " ")
        for p in phrase.first...phrase.last where p != phrase.pronoun { consumed.insert(p) }
        let ageName = lexicon.taxonomy.attributes[age].name
        if mention.pinned[age] != nil {
            unhidden.append(UnhiddenWord(word: text, kind: .revealing, reveals: [ageName],
                                         why: "\"\(mention.label)\" already fixes the \(ageName), so the stated age is left as written"))
            return
        }
        guard let value = band(of: phrase.years) else {
            unhidden.append(UnhiddenWord(word: text, kind: .ageOutOfRange, reveals: [ageName],
                                         why: "age \(phrase.years) is outside every \(ageName) band, so it is left as written"))
            return
        }
        let token = tokens.wordIndices[phrase.numberAt]
        mention.carriers[age, default: []].append(Carrier(tokens: token...token, piece: agePiece(phrase, tokens: tokens, attribute: age),
                                                          value: value, isPronoun: false))
    }

    // MARK: Pronouns

    /// The nearest person before `position` (singular unless `pluralAllowed`), else the nearest after.
    private func nearestMention(to position: Int, in mentions: [Mention], pluralAllowed: Bool) -> Int? {
        if let before = nearestMention(before: position, in: mentions, pluralAllowed: pluralAllowed) { return before }
        return mentions.indices.filter { mentions[$0].anchor > position && Self.canOwnPronoun(mentions[$0], pluralAllowed: pluralAllowed) }
            .min { mentions[$0].anchor < mentions[$1].anchor }
    }

    /// The nearest person before `position` (singular unless `pluralAllowed`), other than `excluded`.
    private func nearestMention(before position: Int, in mentions: [Mention], pluralAllowed: Bool, excluding excluded: Int? = nil) -> Int? {
        mentions.indices.filter { $0 != excluded && mentions[$0].anchor < position && Self.canOwnPronoun(mentions[$0], pluralAllowed: pluralAllowed) }
            .max { mentions[$0].anchor < mentions[$1].anchor }
    }

    private static func canOwnPronoun(_ mention: Mention, pluralAllowed: Bool) -> Bool {
        mention.head != nil && (pluralAllowed || !(mention.noun?.plural ?? false))
    }

    /// The role of a pronoun occurrence from its context. For words whose role is ambiguous
    /// across genders ("her": his or him), the role is decided from the following word and the
    /// preceding verb only, so every gender's rendering reads back with the same role.
    ///
    /// After a ditransitive verb "her" + word is an indirect object ("give her flowers") unless
    /// that word belongs to a person's phrase or a second object follows it ("give her daughter
    /// a hug"): then it is possessive, which every gender renders grammatically ("his daughter").
    private func pronounRole(at position: Int, base: String, tokens: PromptTokens, forms: [Lexicon.PronounForm],
                             consumed: Set<Int>) -> PronounRole {
        let roles = Set(forms.map(\.role))
        let ambiguousRoles: Set<PronounRole> = [.object, .possessive, .possessivePronoun]
        if roles.isDisjoint(with: ambiguousRoles), let role = forms.first?.role { return role }
        let next = tokens.spaceOnlyAfter(word: position) ? tokens.word(position + 1) : nil
        if let next, !Self.functionWords.contains(next) {
            let previous = position > 0 && tokens.spaceOnlyAfter(word: position - 1) ? tokens.word(position - 1) : ""
            guard Self.ditransitiveVerbs.contains(previous) else { return .possessive }
            let secondObject = tokens.spaceOnlyAfter(word: position + 1) && Self.objectDeterminers.contains(tokens.word(position + 2))
            return consumed.contains(position + 1) || secondObject ? .possessive : .object
        }
        return roles.contains(.possessivePronoun) && !roles.contains(.object) ? .possessivePronoun : .object
    }

    // MARK: Unhidden words

    private func findUnhiddenWords(tokens: PromptTokens, consumed: Set<Int>) -> [UnhiddenWord] {
        var found: [UnhiddenWord] = []
        let taxonomy = lexicon.taxonomy
        var position = 0
        while position < tokens.wordCount {
            defer { position += 1 }
            guard !consumed.contains(position) else { continue }
            let original = tokens.original(position)
            let (base, _) = splitPossessive(original)
            if lexicon.firstNames.contains(base) || (lexicon.names[base.lowercased()] != nil && base.first?.isUppercase == true) {
                found.append(UnhiddenWord(word: original, kind: .name, reveals: ["gender", "ethnicity"],
                                          why: lexicon.names[base.lowercased()] == nil
                                            ? "a personal name outside the name list usually implies gender and often ethnicity"
                                            : "part of a full or proper name (likely a real person or place), so it is left as written"))
                continue
            }
            if lexicon.places.contains(base) {
                found.append(UnhiddenWord(word: original, kind: .place, reveals: ["ethnicity"], why: "a place correlates with ethnicity or nationality"))
                continue
            }
            if let entries = lexicon.revealing[splitPossessive(tokens.word(position)).base] {
                var matched = false
                for entry in entries {
                    let last = position + entry.words.count - 1
                    guard last < tokens.wordCount else { continue }
                    let words = (position...last).map { $0 == position ? splitPossessive(tokens.word($0)).base : tokens.word($0) }
                    guard words == entry.words, !entry.caseSensitive || original.first!.isUppercase else { continue }
                    let phrase = (position...last).map { tokens.original($0) }.joined(separator: " ")
                    let definition = taxonomy.revealingWords[entry.entry]
                    found.append(UnhiddenWord(word: phrase, kind: .revealing, reveals: definition.reveals, why: definition.why))
                    position = last
                    matched = true
                    break
                }
                if matched { continue }
            }
            if let form = lexicon.forms(endingAt: position, in: tokens).first(where: { $0.words.count == 1 }) {
                let attribute = taxonomy.attributes[form.attribute]
                if attribute.role == .descriptor, !lexicon.ambiguousForms[form.attribute].contains(tokens.word(position)) {
                    found.append(UnhiddenWord(word: original, kind: .unattached, reveals: [attribute.name],
                                              why: "\"\(original)\" describes no detected person here, so it is not hidden"))
                }
            }
        }
        return found
    }
}

extension PromptTemplate.Piece {
    /// The same piece pointing at another slot (detection fills in attribute indices first);
    /// `cultureSlot` maps a first name's culture attribute to its person's slot of it.
    func withSlot(_ slot: Int, cultureSlot: (Int) -> Int) -> Self {
        switch self {
        case .literal, .article: return self
        case let .genderedNoun(_, noun, plural, suffix, style): return .genderedNoun(slot: slot, noun: noun, plural: plural, suffix: suffix, style: style)
        case let .attributeForm(_, style): return .attributeForm(slot: slot, style: style)
        case let .numericAge(_, decade, suffix): return .numericAge(slot: slot, decade: decade, suffix: suffix)
        case let .decadeWord(_, style): return .decadeWord(slot: slot, style: style)
        case let .pronoun(_, role, suffix, style): return .pronoun(slot: slot, role: role, suffix: suffix, style: style)
        case let .firstName(_, culture, suffix, style):
            return .firstName(slot: slot, cultureSlot: cultureSlot(culture), suffix: suffix, style: style)
        }
    }
}
