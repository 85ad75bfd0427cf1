import Foundation

/// The DP subset mode (PRIVACY.md §3.4(a)): send only M of the N candidates, chosen by the
/// k-subset mechanism with budget ε over the whole value tuple:
///
///     P(S | v) = e^ε / Z if v ∈ S, else 1 / Z,   Z = C(N−1, M−1)·e^ε + C(N−1, M)
///
/// which is ε-LDP (the ratio P(S|v)/P(S|v') is e^ε, 1 or e^−ε). The real tuple is in S with
/// probability p = M·e^ε / (M·e^ε + N − M); when it is not, the client must generate on the
/// device alone. Randomness comes from the system CSPRNG, or is memoised per (user secret,
/// attribute types, values) so that repeating a prompt yields the same subset and an
/// intersection attack over repeated queries learns nothing new.
public struct SubsetMechanism: Sendable {
    public enum Randomness: Sendable {
        /// Fresh randomness from the operating system's CSPRNG for every query.
        case system
        /// Memoised: HMAC-SHA256(secret, attribute types ‖ values) seeds the draw.
        case memoized(secret: [UInt8])
    }

    public let epsilon: Double
    public let subsetSize: Int

    public init(epsilon: Double, subsetSize: Int) throws {
        guard epsilon.isFinite, epsilon > 0 else { throw PrivacyError.invalidSubsetParameters("ε must be a positive finite number, got \(epsilon)") }
        guard subsetSize >= 1 else { throw PrivacyError.invalidSubsetParameters("the subset size M must be at least 1, got \(subsetSize)") }
        self.epsilon = epsilon
        self.subsetSize = subsetSize
    }

    /// Probability that the real tuple is in the subset: M·e^ε / (M·e^ε + N − M).
    public static func inclusionProbability(candidates n: Int, subset m: Int, epsilon: Double) -> Double {
        let boosted = Double(m) * exp(epsilon)
        return boosted / (boosted + Double(n - m))
    }

    /// Reads a user secret (at least 16 bytes) for memoised randomness.
    public static func readSecret(from url: URL) throws -> [UInt8] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw PrivacyError.invalidSecret(path: url.path, reason: error.localizedDescription) }
        guard data.count >= 16 else { throw PrivacyError.invalidSecret(path: url.path, reason: "it holds \(data.count) bytes; use at least 16 random bytes") }
        return Array(data)
    }

    /// Draws the subset for `set`.
    public func select(from set: CandidateSet, randomness: Randomness) throws -> SubsetSelection {
        let n = set.candidates.count
        guard n >= 2 else { throw PrivacyError.invalidSubsetParameters("the prompt has no hidden attribute (N = \(n)); nothing to subsample") }
        guard subsetSize < n else { throw PrivacyError.invalidSubsetParameters("the subset size M = \(subsetSize) must be smaller than N = \(n); send the full set instead") }
        let chosen: [Int]
        switch randomness {
        case .system:
            var generator = SystemRandomNumberGenerator()
            chosen = draw(n: n, real: set.realIndex, using: &generator)
        case let .memoized(secret):
            var generator = MemoizedRandomness(secret: secret, label: memoizationLabel(for: set))
            chosen = draw(n: n, real: set.realIndex, using: &generator)
        }
        let indices = chosen.sorted()
        let boost = exp(epsilon)
        let m = Double(subsetSize), nn = Double(n)
        func bound(_ prior: Double) -> Double { boost * prior / (boost * prior + 1 - prior) }
        var isMemoized = false
        if case .memoized = randomness { isMemoized = true }
        return SubsetSelection(
            candidates: indices.map { set.candidates[$0] }, candidateIndices: indices,
            realIndex: indices.firstIndex(of: set.realIndex), fullSize: n, subsetSize: subsetSize, epsilon: epsilon,
            memoized: isMemoized,
            inclusionProbability: Self.inclusionProbability(candidates: n, subset: subsetSize, epsilon: epsilon),
            maxPosteriorUniformPrior: boost / (m * boost + nn - m),
            maxPosteriorBound: bound(set.report.maxPosterior),
            realValuesPosteriorBound: bound(set.report.realValuesProbability))
    }

    /// The exact sampler: with probability p the real index plus M−1 others, else M others,
    /// the others uniformly without replacement from the N−1 non-real indices.
    func draw<G: RandomNumberGenerator>(n: Int, real: Int, using generator: inout G) -> [Int] {
        let p = Self.inclusionProbability(candidates: n, subset: subsetSize, epsilon: epsilon)
        let includeReal = generator.unitInterval() < p
        var others = (0..<n).filter { $0 != real }
        let needed = includeReal ? subsetSize - 1 : subsetSize
        for i in 0..<needed {  // partial Fisher–Yates
            let j = i + generator.uniform(below: others.count - i)
            others.swapAt(i, j)
        }
        return (includeReal ? [real] : []) + others.prefix(needed)
    }

    /// What memoisation is keyed on besides the secret: the mechanism's parameters, and each
    /// slot's attribute type and the prompt's own value — not the wording, so rephrasing the
    /// same person gets the same subset.
    func memoizationLabel(for set: CandidateSet) -> String {
        let values = set.valueNames(ofCandidate: set.realIndex).joined(separator: ";")
        return "obclip-dp-subset/v1|N=\(set.candidates.count)|M=\(subsetSize)|eps=\(epsilon)|\(values)"
    }
}

/// The outcome of the DP subset mode: the M candidates to send and what they guarantee.
public struct SubsetSelection: Codable, Equatable, Sendable {
    /// The candidates to send, in canonical order.
    public var candidates: [String]
    /// Their indices in the full candidate set.
    public var candidateIndices: [Int]
    /// Index of the real candidate within `candidates`, or nil when it was not drawn: then the
    /// client generates on the device only (and must not let the server notice).
    public var realIndex: Int?
    public var fullSize: Int
    public var subsetSize: Int
    public var epsilon: Double
    /// Whether the randomness was memoised per (secret, types, values).
    public var memoized: Bool
    /// P(real tuple ∈ S) = M·e^ε / (M·e^ε + N − M).
    public var inclusionProbability: Double
    /// The server's best-guess probability under a uniform prior: e^ε / (M·e^ε + N − M).
    public var maxPosteriorUniformPrior: Double
    /// ε-LDP bound on the server's best guess under the taxonomy's prior: e^ε·π/(e^ε·π + 1 − π), π = max prior.
    public var maxPosteriorBound: Double
    /// The same bound for the prompt's own values.
    public var realValuesPosteriorBound: Double
}
