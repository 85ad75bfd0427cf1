import Foundation

/// The sensitive-attribute taxonomy: which attribute types exist, each with an ordered value
/// domain and the surface forms that express each value, plus the person nouns, pronoun sets and
/// words that reveal an attribute without being hideable. It is data, not code, so a deployment
/// can widen or narrow what is hidden (`--taxonomy FILE`) without touching the engine.
///
/// The domain order is the canonical candidate order: it must never depend on a prompt.
public struct Taxonomy: Codable, Equatable, Sendable {
    /// The grammatical role an attribute plays, which decides how it is detected and rendered.
    public enum Role: String, Codable, Sendable {
        /// Carried by gendered nouns, gender adjectives and pronouns. At most one per taxonomy.
        case gender
        /// Carried by age adjectives and numeric ages, which are mapped to bands. At most one.
        case age
        /// An adjective that describes a person noun (ethnicity, religion, disability, …).
        case descriptor
        /// A capitalised place name anywhere in the prompt ("in Paris"): a slot of its own for
        /// each occurrence, tied to no person.
        case place
    }

    /// One value of an attribute domain.
    public struct Value: Codable, Equatable, Sendable {
        /// The value's name (e.g. "female"); used in reports and in DP memoisation keys.
        public var name: String
        /// Adjective surface forms; the first is the canonical one that candidates are rendered with.
        public var forms: [String]
        /// Population prior of this value, used only for reporting the server's best guess.
        public var prior: Double?
        /// Age band (inclusive years) for numeric ages; age role only.
        public var ageRange: [Int]?
        /// The age rendered for this band when the prompt states a numeric age; age role only.
        public var representativeAge: Int?
        /// Culture groups of the first-name list whose names express this value; the first is
        /// the one candidates are rendered with.
        public var nameGroups: [String]?
    }

    /// One attribute type with its ordered domain.
    public struct Attribute: Codable, Equatable, Sendable {
        public var name: String
        public var role: Role
        public var values: [Value]
        /// Render forms capitalised even when the prompt wrote them in lower case ("Asian").
        public var properAdjective: Bool?
        /// Count a form only when it directly precedes the person noun (or another attribute
        /// word that does): "a black woman" but not "a black haired woman" or "a black dress".
        public var adjacentOnly: Bool?
        /// Forms that are common words in other senses (colours); not reported when they
        /// describe no person.
        public var ambiguousForms: [String]?
    }

    /// A person noun with one form pair (singular, plural) per gender value, e.g. waiter/waitress.
    public struct GenderedNoun: Codable, Equatable, Sendable {
        /// gender value name → [singular, plural].
        public var forms: [String: [String]]
        /// Attributes the noun fixes on its own ("grandmother" is old): reported as revealed.
        public var implies: [String: String]?
    }

    /// The pronouns that refer to a person of one gender value.
    public struct PronounSet: Codable, Equatable, Sendable {
        public var subject: String
        public var object: String
        public var possessive: String
        public var possessivePronoun: String
        public var reflexive: String
    }

    /// Words that pin an attribute but cannot be swapped ("pregnant", "hijab"): reported.
    public struct RevealingWord: Codable, Equatable, Sendable {
        public var words: [String]
        public var reveals: [String]
        public var why: String
    }

    public var name: String
    public var description: String?
    public var attributes: [Attribute]
    public var genderedNouns: [GenderedNoun]
    /// Person nouns without gender, as [singular, plural] ("doctor", "person"/"people").
    public var neutralNouns: [[String]]
    /// gender value name → pronoun set.
    public var pronouns: [String: PronounSet]
    public var revealingWords: [RevealingWord]
    public var places: [String]
    /// Names reported as revealing but not swapped (names outside `firstNameList`).
    public var firstNames: [String]
    /// The first names that become slot words (gender plus the attribute whose values list
    /// `nameGroups`); nil: names are only reported.
    public var firstNameList: FirstNameList?

    /// Looks up an attribute by name.
    public func attribute(named name: String) -> Attribute? { attributes.first { $0.name == name } }
    /// The single gender attribute, if the taxonomy has one.
    public var genderAttribute: Attribute? { attributes.first { $0.role == .gender } }
    /// The single age attribute, if the taxonomy has one.
    public var ageAttribute: Attribute? { attributes.first { $0.role == .age } }
}

// MARK: - Decoding with the "extends" key

extension Taxonomy {
    /// The file layout: like `Taxonomy`, but every list is optional so an extension file can add
    /// only what it changes (`"extends": "default"`).
    private struct FileLayout: Decodable {
        var name: String
        var description: String?
        var extends: String?
        var attributes: [Attribute]?
        var genderedNouns: [NounLayout]?
        var neutralNouns: [[String]]?
        var pronouns: [String: PronounSet]?
        var revealingWords: [RevealingWord]?
        var places: [String]?
        var firstNames: [String]?
        /// The name of a bundled first-name list ("first-names").
        var firstNameList: String?
    }

    /// Gendered nouns are written flat in files: {"male": [..], "female": [..], "implies": {..}}.
    private struct NounLayout: Decodable {
        var noun: GenderedNoun
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: DynamicKey.self)
            var forms: [String: [String]] = [:]
            var implies: [String: String]?
            for key in container.allKeys {
                if key.stringValue == "implies" {
                    implies = try container.decode([String: String].self, forKey: key)
                } else {
                    forms[key.stringValue] = try container.decode([String].self, forKey: key)
                }
            }
            noun = GenderedNoun(forms: forms, implies: implies)
        }
    }

    private struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The names of the taxonomies bundled with the module.
    public static let bundledNames = ["default", "extended"]

    /// A bundled taxonomy: "default" (the paper's gender, age, ethnicity) or "extended" (plus
    /// religion and disability).
    public static func bundled(_ name: String) throws -> Taxonomy {
        guard bundledNames.contains(name),
              let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: name, withExtension: "json")
        else {
            throw PrivacyError.unreadableTaxonomy(path: name, reason: "no bundled taxonomy of that name (have: \(bundledNames.joined(separator: ", ")))")
        }
        return try load(contentsOf: url)
    }

    /// The paper's default taxonomy. Bundled, so failure is a packaging bug.
    public static func standard() -> Taxonomy {
        do { return try bundled("default") } catch { preconditionFailure("bundled default taxonomy is broken: \(error)") }
    }

    /// Loads and validates a taxonomy file; a file with `"extends": NAME` is merged onto the
    /// bundled taxonomy NAME (its attributes and word lists are appended).
    public static func load(contentsOf url: URL) throws -> Taxonomy {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PrivacyError.unreadableTaxonomy(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    /// Decodes and validates taxonomy JSON; `path` is only used in error messages.
    public static func decode(_ data: Data, path: String) throws -> Taxonomy {
        let layout: FileLayout
        do { layout = try JSONDecoder().decode(FileLayout.self, from: data) } catch let error as DecodingError {
            throw PrivacyError.unreadableTaxonomy(path: path, reason: describe(error))
        } catch {
            throw PrivacyError.unreadableTaxonomy(path: path, reason: "\(error)")
        }
        var taxonomy: Taxonomy
        if let base = layout.extends {
            guard base != layout.name else {
                throw PrivacyError.invalidTaxonomy(path: path, reason: "\"extends\": \"\(base)\" names the taxonomy itself")
            }
            guard bundledNames.contains(base) else {
                throw PrivacyError.invalidTaxonomy(path: path, reason: "\"extends\": \"\(base)\" is not a bundled taxonomy (have: \(bundledNames.joined(separator: ", ")))")
            }
            taxonomy = try bundled(base)
            taxonomy.name = layout.name
            taxonomy.description = layout.description ?? taxonomy.description
        } else {
            taxonomy = Taxonomy(name: layout.name, description: layout.description, attributes: [], genderedNouns: [],
                                neutralNouns: [], pronouns: [:], revealingWords: [], places: [], firstNames: [], firstNameList: nil)
        }
        taxonomy.attributes += layout.attributes ?? []
        taxonomy.genderedNouns += (layout.genderedNouns ?? []).map(\.noun)
        taxonomy.neutralNouns += layout.neutralNouns ?? []
        taxonomy.pronouns.merge(layout.pronouns ?? [:]) { _, new in new }
        taxonomy.revealingWords += layout.revealingWords ?? []
        taxonomy.places += layout.places ?? []
        taxonomy.firstNames += layout.firstNames ?? []
        if let list = layout.firstNameList { taxonomy.firstNameList = try FirstNameList.bundled(list) }
        try taxonomy.validate(path: path)
        return taxonomy
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let key = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return key.isEmpty ? context.debugDescription : "at \(key): \(context.debugDescription)"
        }
        switch error {
        case let .keyNotFound(key, context): return "missing key \"\(key.stringValue)\" \(at(context))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): return at(context)
        @unknown default: return "\(error)"
        }
    }

    /// Checks everything the detector and renderer rely on, so a bad file fails at load time with
    /// the offending key rather than producing candidate sets that leak.
    func validate(path: String) throws {
        func fail(_ reason: String) -> PrivacyError { .invalidTaxonomy(path: path, reason: reason) }
        var attributeNames = Set<String>()
        for attribute in attributes {
            guard attributeNames.insert(attribute.name).inserted else { throw fail("attribute \"\(attribute.name)\" is defined twice") }
            guard attribute.values.count >= 2 else { throw fail("attribute \"\(attribute.name)\" needs at least two values to hide anything") }
            var valueNames = Set<String>()
            for value in attribute.values {
                guard valueNames.insert(value.name).inserted else { throw fail("attribute \"\(attribute.name)\": value \"\(value.name)\" is listed twice") }
                guard let canonical = value.forms.first, !canonical.isEmpty else {
                    throw fail("attribute \"\(attribute.name)\", value \"\(value.name)\": \"forms\" must list at least one word")
                }
                if let prior = value.prior, !(prior >= 0 && prior <= 1) {
                    throw fail("attribute \"\(attribute.name)\", value \"\(value.name)\": prior \(prior) is not in [0, 1]")
                }
                if attribute.role == .age {
                    guard let range = value.ageRange, range.count == 2, range[0] <= range[1],
                          let representative = value.representativeAge, range[0] <= representative, representative <= range[1]
                    else { throw fail("age value \"\(value.name)\" needs \"ageRange\": [low, high] and a \"representativeAge\" inside it") }
                }
            }
        }
        for role in [Role.gender, .age] where attributes.filter({ $0.role == role }).count > 1 {
            throw fail("more than one attribute has role \"\(role.rawValue)\"")
        }
        if let ages = ageAttribute {
            let ranges = ages.values.compactMap(\.ageRange)
            for (a, b) in zip(ranges, ranges.dropFirst()) where a[1] >= b[0] {
                throw fail("age bands of \"\(ages.name)\" must be ascending and disjoint (\(a) overlaps \(b))")
            }
        }
        // Every surface form must mean exactly one thing, or re-detecting a candidate could read
        // it differently and break the closure invariant.
        var owner: [String: String] = [:]
        func claim(_ form: String, _ what: String) throws {
            let key = form.lowercased()
            if let previous = owner[key], previous != what {
                throw fail("the word \"\(form)\" is used for both \(previous) and \(what)")
            }
            owner[key] = what
        }
        for attribute in attributes { for value in attribute.values { for form in value.forms {
            try claim(form, "\(attribute.name)=\(value.name)")
        } } }
        // A gender adjective may double as a noun of the same value ("a female doctor", "two females").
        let genderAdjectives = Set(genderAttribute?.values.flatMap { $0.forms.map { $0.lowercased() } } ?? [])
        let genderValues = genderAttribute.map { Set($0.values.map(\.name)) } ?? []
        for (index, noun) in genderedNouns.enumerated() {
            guard genderAttribute != nil else { throw fail("genderedNouns need an attribute with role \"gender\"") }
            guard Set(noun.forms.keys) == genderValues else {
                throw fail("genderedNouns[\(index)] must give forms for exactly the gender values \(genderValues.sorted()), has \(noun.forms.keys.sorted())")
            }
            for (value, forms) in noun.forms {
                guard forms.count == 2, !forms[0].isEmpty, !forms[1].isEmpty else {
                    throw fail("genderedNouns[\(index)].\(value) must be [singular, plural]")
                }
                for form in forms where !genderAdjectives.contains(form.lowercased()) {
                    try claim(form, "noun \(noun.forms.values.map { $0[0] }.sorted().joined(separator: "/"))")
                }
            }
            for (attributeName, valueName) in noun.implies ?? [:] {
                guard let attribute = attribute(named: attributeName), attribute.values.contains(where: { $0.name == valueName }) else {
                    throw fail("genderedNouns[\(index)].implies names unknown \(attributeName)=\(valueName)")
                }
            }
        }
        for (index, pair) in neutralNouns.enumerated() {
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else { throw fail("neutralNouns[\(index)] must be [singular, plural]") }
        }
        if genderAttribute != nil {
            guard Set(pronouns.keys) == genderValues else {
                throw fail("\"pronouns\" must give one set per gender value \(genderValues.sorted()), has \(pronouns.keys.sorted())")
            }
        }
        for word in revealingWords where word.words.isEmpty || word.reveals.isEmpty {
            throw fail("revealingWords entry \"\(word.why)\" needs \"words\" and \"reveals\"")
        }
        try validateNameGroups(fail)
    }

    /// Name slots need one attribute whose every value lists culture groups, each group on one
    /// value only, and names for every (gender value, value) pair, or a candidate could not be
    /// rendered.
    private func validateNameGroups(_ fail: (String) -> PrivacyError) throws {
        let cultures = attributes.filter { $0.values.contains { $0.nameGroups != nil } }
        guard let list = firstNameList else {
            if let culture = cultures.first { throw fail("attribute \"\(culture.name)\" lists nameGroups but the taxonomy has no \"firstNameList\"") }
            return
        }
        guard let gender = genderAttribute else { throw fail("\"firstNameList\" needs an attribute with role \"gender\"") }
        guard cultures.count == 1, let culture = cultures.first else {
            throw fail("\"firstNameList\" needs exactly one attribute whose values list \"nameGroups\" (found \(cultures.count))")
        }
        var owner: [String: String] = [:]
        for value in culture.values {
            guard let groups = value.nameGroups, !groups.isEmpty else {
                throw fail("attribute \"\(culture.name)\", value \"\(value.name)\": every value needs \"nameGroups\"")
            }
            for group in groups {
                guard list.groups.contains(group) else { throw fail("value \"\(value.name)\" names unknown name group \"\(group)\"") }
                if let previous = owner[group] { throw fail("name group \"\(group)\" is used for both \(previous) and \(value.name)") }
                owner[group] = value.name
            }
            for genderValue in gender.values where !list.names.contains(where: { $0.gender == genderValue.name && $0.group == groups[0] }) {
                throw fail("the first-name list has no \(genderValue.name) name in group \"\(groups[0])\" for \(culture.name)=\(value.name)")
            }
        }
    }
}
