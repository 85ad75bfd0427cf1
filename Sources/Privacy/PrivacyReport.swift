import Foundation

/// What a candidate set hides and what it does not, for the user (client-local: it names the
/// real values). The server's view of a full set is the template and the domains, so under a
/// population prior π its best guess is right with probability max π — not 1/N unless π is
/// uniform — and that is what is reported.
public struct PrivacyReport: Codable, Equatable, Sendable {
    /// One hidden attribute of one person.
    public struct HiddenSlot: Codable, Equatable, Sendable {
        /// 1-based person number, in order of first mention.
        public var person: Int
        /// The person as written in the prompt ("woman", "she").
        public var personWord: String
        public var attribute: String
        /// The values the server sees as equally possible, in canonical order.
        public var hiddenAmong: [String]
        /// The prompt's own value (client-local).
        public var realValue: String
    }

    /// N, the number of candidates.
    public var candidateCount: Int
    public var slots: [HiddenSlot]
    /// The attribute types the set's shape reveals to the server (the slot types are public).
    public var attributeTypesRevealed: [String]
    /// Words every candidate still carries, with what they give away.
    public var unhidden: [UnhiddenWord]
    /// Choices the engine made that change the wording (client-local).
    public var notes: [String]
    /// 1/N: the server's best guess only under a uniform prior (shown for comparison only).
    public var uniformGuessProbability: Double
    /// The server's best-guess probability: the largest prior probability of any candidate's
    /// value tuple (slots taken as independent, priors from the taxonomy).
    public var maxPosterior: Double
    /// 1 / maxPosterior: how many equally likely candidates the set is worth.
    public var effectiveK: Double
    /// 2^H(π) over the candidates: the prior's perplexity.
    public var priorPerplexity: Double
    /// The prior probability of the prompt's own values (how exposed this user is).
    public var realValuesProbability: Double
    /// Slot words the real candidate writes differently from the prompt (client-local); empty
    /// when the real candidate is the prompt byte for byte.
    public var normalisedWords: [NormalisedWord]
    /// First names swapped for names consistent with each candidate's values (client-local).
    public var swappedNames: [SwappedName]

    init(template: PromptTemplate, taxonomy: Taxonomy, realValues: [Int], personLabels: [String],
         unhidden: [UnhiddenWord], notes: [String], normalisedWords: [NormalisedWord], swappedNames: [SwappedName]) {
        self.normalisedWords = normalisedWords
        self.swappedNames = swappedNames
        candidateCount = template.candidateCount
        slots = zip(template.slots, realValues).map { slot, real in
            let attribute = taxonomy.attributes[slot.attribute]
            return HiddenSlot(person: slot.person + 1, personWord: personLabels[slot.person], attribute: attribute.name,
                              hiddenAmong: attribute.values.map(\.name), realValue: attribute.values[real].name)
        }
        var seen = Set<String>()
        attributeTypesRevealed = slots.map(\.attribute).filter { seen.insert($0).inserted }
        self.unhidden = unhidden
        self.notes = notes
        uniformGuessProbability = 1 / Double(candidateCount)
        var maxPosterior = 1.0, perplexity = 1.0, real = 1.0
        for (slot, value) in zip(template.slots, realValues) {
            let prior = Self.prior(of: taxonomy.attributes[slot.attribute])
            maxPosterior *= prior.max() ?? 1
            perplexity *= pow(2, -prior.reduce(0) { $1 > 0 ? $0 + $1 * log2($1) : $0 })
            real *= prior[value]
        }
        self.maxPosterior = maxPosterior
        effectiveK = 1 / maxPosterior
        priorPerplexity = perplexity
        realValuesProbability = real
    }

    /// The normalised population prior of an attribute's values (uniform where the taxonomy gives none).
    public static func prior(of attribute: Taxonomy.Attribute) -> [Double] {
        let raw = attribute.values.map { $0.prior ?? 1 }
        let total = raw.reduce(0, +)
        return total > 0 ? raw.map { $0 / total } : raw.map { _ in 1 / Double(raw.count) }
    }
}
