import Foundation

/// The Bayesian adversary of linked requests for one attribute of one person: it knows the
/// mechanism (Kerckhoffs) and the population prior, links every request about the person, and
/// updates its posterior over the attribute's values with each release it sees. Used to measure
/// what linking buys: nothing for full sets, nothing beyond the first release for memoised DP
/// subsets, and the intersection attack for fresh DP randomness.
public struct LinkedAdversary: Sendable {
    public let prior: [Double]
    private var logLikelihood: [Double]
    /// Memoised releases already seen: a repeat is a deterministic copy and carries no news.
    private var seen = Set<[Int]>()

    public init(prior: [Double]) {
        self.prior = prior
        logLikelihood = prior.map { _ in 0 }
    }

    /// One release: the values sent for the attribute (the whole domain for a full set) by the
    /// k-subset mechanism with budget ε; for a full set ε is irrelevant (every value is sent).
    public mutating func observe(sent: [Int], epsilon: Double, memoized: Bool) {
        if memoized, !seen.insert(sent.sorted()).inserted { return }
        let inSet = Set(sent)
        // P(S | v) ∝ e^ε if v ∈ S, else 1 (the normaliser is the same for every v).
        for v in prior.indices where inSet.contains(v) { logLikelihood[v] += epsilon }
    }

    /// P(v | everything observed).
    public var posterior: [Double] {
        let top = logLikelihood.max() ?? 0
        let weights = zip(prior, logLikelihood).map { $0 * exp($1 - top) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }
}
