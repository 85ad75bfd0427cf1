/// Why the privacy engine refused a taxonomy or a prompt. Every case names the file, key or word
/// involved so a user can fix the input; none of them is a programmer error.
public enum PrivacyError: Error, CustomStringConvertible, Equatable {
    /// The taxonomy file could not be read or parsed (`path`, underlying reason).
    case unreadableTaxonomy(path: String, reason: String)
    /// The taxonomy parsed but is inconsistent (`path`, the offending key and why).
    case invalidTaxonomy(path: String, reason: String)
    /// The prompt produced more candidates than the configured limit.
    case tooManyCandidates(count: Int, limit: Int)
    /// Re-obfuscating a candidate did not give back the same ordered set. Sending such a set
    /// would let the server tell the real prompt apart, so it is refused.
    case closureViolation(candidate: String)
    /// DP subset parameters are out of range.
    case invalidSubsetParameters(String)
    /// The user secret for memoised DP randomness could not be read or is too short.
    case invalidSecret(path: String, reason: String)
    /// The privacy-budget file could not be read or written.
    case invalidBudget(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableTaxonomy(path, reason): return "cannot read taxonomy \(path): \(reason)"
        case let .invalidTaxonomy(path, reason): return "invalid taxonomy \(path): \(reason)"
        case let .tooManyCandidates(count, limit):
            let counted = count == .max ? "more than \(Int.max)" : "\(count)"  // candidateCount saturates
            return "the prompt has \(counted) candidate renderings, more than the limit of \(limit); use fewer people or attributes"
        case let .closureViolation(candidate):
            return "internal privacy check failed: re-obfuscating candidate \"\(candidate)\" does not reproduce the set; refusing to send it"
        case let .invalidSubsetParameters(reason): return "invalid DP subset parameters: \(reason)"
        case let .invalidSecret(path, reason): return "cannot use secret file \(path): \(reason)"
        case let .invalidBudget(path, reason): return "cannot use privacy-budget file \(path): \(reason)"
        }
    }
}
