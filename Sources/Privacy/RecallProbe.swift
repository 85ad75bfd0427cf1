/// Measures detection recall per value: every surface form of every value is put into the same
/// sentence frames and the detector must find a slot of that attribute with that value. A
/// detector that finds "woman" more often than "man" leaks the value through the mere presence
/// of a slot (the posterior becomes ∝ recall(v)·prior(v)), so recall must be equal across a
/// domain; this is the measurement.
public struct RecallProbe: Sendable {
    /// Recall of one value: hits out of trials.
    public struct ValueRecall: Codable, Equatable, Sendable {
        public var attribute: String
        public var value: String
        public var hits: Int
        public var trials: Int
        public var recall: Double { trials == 0 ? 0 : Double(hits) / Double(trials) }
        /// Frames in which the value was missed (at most a few, for diagnosis).
        public var misses: [String]
    }

    public let taxonomy: Taxonomy
    public init(taxonomy: Taxonomy) { self.taxonomy = taxonomy }

    /// Frames for adjectives: {F} is the form, {N} a person noun, {P} its plural.
    static let adjectiveFrames = [
        "a photo of a {F} {N}", "{F} {N} walking in the rain", "portrait of two {F} {P}, studio lighting",
        "An oil painting of a {F} {N} by the sea", "close-up of the {F} {N}'s face", "a {F} {N} and a dog in a park",
        "cinematic still, {F} {P} at a market, 35mm",
    ]
    static let personNouns = [("man", "men"), ("woman", "women"), ("doctor", "doctors"), ("person", "people")]
    static let nounFrames = ["a photo of a {N}", "{N} reading a book", "two {P} at a cafe", "the {N}'s hands, close-up",
                             "A {N} with a red umbrella", "portrait of a smiling {N}, 85mm"]
    static let pronounFrames = ["a doctor holding {POS} coffee", "portrait of a teacher, {SUB} is smiling",
                                "a chef who cut {REF}", "the artist and a painting of {OBJ}"]
    static let nameFrames = ["portrait of {NAME}, smiling", "{NAME} reading a book in a park", "a photo of {NAME}'s hands"]
    static let numericFrames = ["a {A}-year-old man", "a woman aged {A} at the beach", "a doctor, {A} years old", "a {A} year old person"]

    /// Recall for every value of every attribute, in taxonomy order.
    public func measure() -> [ValueRecall] {
        let lexicon = Lexicon(taxonomy)
        let detector = AttributeDetector(lexicon: lexicon)
        var results: [ValueRecall] = []
        for (attributeIndex, attribute) in taxonomy.attributes.enumerated() {
            for (valueIndex, value) in attribute.values.enumerated() {
                var result = ValueRecall(attribute: attribute.name, value: value.name, hits: 0, trials: 0, misses: [])
                func probe(_ text: String) {
                    result.trials += 1
                    let detection = detector.detect(text)
                    let found = zip(detection.template.slots, detection.realValues).contains {
                        $0.0.attribute == attributeIndex && $0.1 == valueIndex
                    }
                    if found { result.hits += 1 } else if result.misses.count < 5 { result.misses.append(text) }
                }
                for form in value.forms {
                    for frame in Self.adjectiveFrames {
                        for (noun, plural) in Self.personNouns {
                            probe(frame.replacingAll("{F}", form).replacingAll("{N}", noun).replacingAll("{P}", plural))
                        }
                    }
                }
                switch attribute.role {
                case .gender:
                    for noun in taxonomy.genderedNouns where noun.implies?[taxonomy.ageAttribute?.name ?? ""] == nil {
                        let forms = noun.forms[value.name]!
                        for frame in Self.nounFrames { probe(frame.replacingAll("{N}", forms[0]).replacingAll("{P}", forms[1])) }
                    }
                    if let set = taxonomy.pronouns[value.name] {
                        for frame in Self.pronounFrames {
                            probe(frame.replacingAll("{POS}", set.possessive).replacingAll("{SUB}", set.subject)
                                .replacingAll("{REF}", set.reflexive).replacingAll("{OBJ}", set.object))
                        }
                    }
                case .age:
                    if let range = value.ageRange {
                        for years in range[0]...min(range[1], 100) {
                            for frame in Self.numericFrames { probe(frame.replacingAll("{A}", String(years))) }
                        }
                    }
                case .descriptor, .place:
                    break
                }
                // Every listed first name that expresses this value, in name frames: a name the
                // detector misses is sent as written, so coverage must not favour any group.
                if let list = taxonomy.firstNameList, let culture = lexicon.nameCulture,
                   attributeIndex == culture || attributeIndex == lexicon.genderAttribute {
                    let mapped = Set(taxonomy.attributes[culture].values.flatMap { $0.nameGroups ?? [] })
                    for entry in list.names where mapped.contains(entry.group)
                        && (attributeIndex == culture ? value.nameGroups?.contains(entry.group) ?? false : entry.gender == value.name) {
                        for frame in Self.nameFrames { probe(frame.replacingAll("{NAME}", entry.name)) }
                    }
                }
                results.append(result)
            }
        }
        return results
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        components(separatedBy: target).joined(separator: replacement)
    }
}
