import Foundation

/// The per-attribute privacy budget across linked requests (sequential composition): every DP
/// release of an attribute adds its ε, except a memoised release repeated exactly — the same
/// (secret, attribute, value, M, ε) gives the same subset, which tells the server nothing new,
/// so it is charged once. Client-local; stored as JSON (`obclip protect --budget-file`). Memo
/// keys are kept as HMAC-SHA256 digests under the user's secret, so the file does not list the
/// values, and without the secret they cannot be guessed from the few possible values.
public struct PrivacyBudget: Codable, Equatable, Sendable {
    /// Attribute name → total ε spent.
    public private(set) var spent: [String: Double] = [:]
    /// Attribute name → digests of the memoised releases already charged.
    public private(set) var charged: [String: Set<String>] = [:]
    /// Requests accounted so far.
    public private(set) var requests = 0

    public init() {}

    /// Charges one release of `attribute`; returns the ε added (0 for a memoised release whose
    /// digest was charged before; nil digest: fresh randomness, always charged).
    mutating func charge(attribute: String, epsilon: Double, memoDigest: String?) -> Double {
        if let memoDigest {
            guard charged[attribute, default: []].insert(memoDigest).inserted else { return 0 }
        }
        spent[attribute, default: 0] += epsilon
        return epsilon
    }

    /// Counts one request (called once per request by whoever sends it).
    public mutating func countRequest() { requests += 1 }

    /// Reads a budget file; a missing file is an empty budget.
    public static func load(from url: URL) throws -> PrivacyBudget {
        guard FileManager.default.fileExists(atPath: url.path) else { return PrivacyBudget() }
        do { return try JSONDecoder().decode(PrivacyBudget.self, from: Data(contentsOf: url)) } catch {
            throw PrivacyError.invalidBudget(path: url.path, reason: "\(error)")
        }
    }

    /// Writes the budget file atomically.
    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try encoder.encode(self).write(to: url, options: .atomic) } catch {
            throw PrivacyError.invalidBudget(path: url.path, reason: error.localizedDescription)
        }
    }
}
