import Foundation

/// The DP subset mode for linked requests (PRIVACY.md §3.4(c)–(d)): each hidden slot draws its
/// own M_a of its attribute's |D_a| values with the k-subset mechanism at budget ε_a, and the
/// client sends the product of those subsets. With memoised randomness the draw is keyed by
/// (user secret, attribute, value) only — RAPPOR's permanent randomised response — so every
/// request that mentions the same value of an attribute sends the same alternatives, and an
/// adversary who links and intersects any number of requests learns what one request told it.
/// `PrivacyBudget` accounts for what each release costs across the requests.
public struct AttributeSubsetMechanism: Sendable {
    /// ε and M for one attribute type.
    public struct Parameters: Codable, Equatable, Sendable {
        public var epsilon: Double
        public var subsetSize: Int
        public init(epsilon: Double, subsetSize: Int) {
            self.epsilon = epsilon
            self.subsetSize = subsetSize
        }
    }

    /// Attribute name → parameters. An attribute without parameters, or whose M is not below
    /// |D|, sends its whole domain (which is value-independent and costs nothing).
    public let parameters: [String: Parameters]

    public init(parameters: [String: Parameters]) throws {
        for (name, p) in parameters {
            _ = try SubsetMechanism(epsilon: p.epsilon, subsetSize: p.subsetSize)
            guard !name.isEmpty else { throw PrivacyError.invalidSubsetParameters("an attribute name is empty") }
        }
        self.parameters = parameters
    }

    /// The same ε and M for every attribute of `taxonomy` (M capped at |D| − 1).
    public init(taxonomy: Taxonomy, epsilon: Double, subsetSize: Int) throws {
        try self.init(parameters: Dictionary(uniqueKeysWithValues: taxonomy.attributes.map {
            ($0.name, Parameters(epsilon: epsilon, subsetSize: min(subsetSize, $0.values.count - 1)))
        }))
    }

    /// The memoisation key of one release: the attribute, its value and the parameters — not
    /// the prompt, the person or the slot position.
    static func memoizationLabel(attribute: String, value: String, parameters p: Parameters) -> String {
        "obclip-dp-attribute/v1|\(attribute)|M=\(p.subsetSize)|eps=\(p.epsilon)|\(value)"
    }

    /// Draws each slot's subset and the product set to send, and charges `budget`.
    public func select(from set: CandidateSet, randomness: SubsetMechanism.Randomness, budget: inout PrivacyBudget) throws -> LinkedSelection {
        guard set.candidates.count >= 2 else {
            throw PrivacyError.invalidSubsetParameters("the prompt has no hidden attribute (N = \(set.candidates.count)); nothing to subsample")
        }
        let realValues = set.template.values(ofCandidate: set.realIndex)
        var releases: [LinkedSelection.Release] = []
        var subsets: [[Int]] = []
        for (slot, real) in zip(set.template.slots, realValues) {
            let attribute = set.taxonomy.attributes[slot.attribute]
            let domain = attribute.values.count
            guard let p = parameters[attribute.name], p.subsetSize < domain else {
                subsets.append(Array(0..<domain))
                continue
            }
            let mechanism = try SubsetMechanism(epsilon: p.epsilon, subsetSize: p.subsetSize)
            let label = Self.memoizationLabel(attribute: attribute.name, value: attribute.values[real].name, parameters: p)
            let chosen: [Int]
            switch randomness {
            case .system:
                var generator = SystemRandomNumberGenerator()
                chosen = mechanism.draw(n: domain, real: real, using: &generator).sorted()
            case let .memoized(secret):
                var generator = MemoizedRandomness(secret: secret, label: label)
                chosen = mechanism.draw(n: domain, real: real, using: &generator).sorted()
            }
            subsets.append(chosen)
            var memoDigest: String?
            if case let .memoized(secret) = randomness {
                memoDigest = HMACSHA256.authenticate(Array(label.utf8), key: secret).map { String(format: "%02x", $0) }.joined()
            }
            let charged = budget.charge(attribute: attribute.name, epsilon: p.epsilon, memoDigest: memoDigest)
            releases.append(.init(person: slot.person + 1, attribute: attribute.name, sent: chosen.map { attribute.values[$0].name },
                                  epsilon: p.epsilon, subsetSize: p.subsetSize, domainSize: domain,
                                  inclusionProbability: SubsetMechanism.inclusionProbability(candidates: domain, subset: p.subsetSize, epsilon: p.epsilon),
                                  charged: charged))
        }
        // The product of the subsets, in canonical order (the first slot varies slowest).
        var indices = [0]
        for (slot, subset) in zip(set.template.slots, subsets) {
            indices = indices.flatMap { prefix in subset.map { prefix * slot.domainSize + $0 } }
        }
        return LinkedSelection(candidates: indices.map { set.candidates[$0] }, candidateIndices: indices,
                               realIndex: indices.firstIndex(of: set.realIndex), fullSize: set.candidates.count,
                               memoized: randomness.isMemoized, releases: releases,
                               inclusionProbability: releases.reduce(1) { $0 * $1.inclusionProbability },
                               epsilonCharged: releases.reduce(0) { $0 + $1.charged }, budget: budget.spent)
    }
}

extension SubsetMechanism.Randomness {
    var isMemoized: Bool {
        if case .memoized = self { return true }
        return false
    }
}

/// What the linked DP mode sends for one request and what it cost.
public struct LinkedSelection: Codable, Equatable, Sendable {
    /// One slot's release: the values sent for it.
    public struct Release: Codable, Equatable, Sendable {
        public var person: Int
        public var attribute: String
        /// The M values of the attribute sent for this slot, in domain order.
        public var sent: [String]
        public var epsilon: Double
        public var subsetSize: Int
        public var domainSize: Int
        /// P(the real value is among `sent`) = M·e^ε / (M·e^ε + |D| − M).
        public var inclusionProbability: Double
        /// ε this release added to the budget: 0 when memoised and released before.
        public var charged: Double
    }

    /// The candidates to send (the product of the slots' subsets), in canonical order.
    public var candidates: [String]
    public var candidateIndices: [Int]
    /// Index of the real candidate within `candidates`; nil: generate on the device only.
    public var realIndex: Int?
    public var fullSize: Int
    public var memoized: Bool
    public var releases: [Release]
    /// P(every real value was drawn): the product of the releases' inclusion probabilities.
    public var inclusionProbability: Double
    /// ε this request added across attributes.
    public var epsilonCharged: Double
    /// The budget spent so far per attribute, this request included.
    public var budget: [String: Double]
}
