import Foundation

/// The per-attribute privacy budget across linked requests (sequential composition): every DP
/// release of an attribute adds its ε, except a memoised release repeated exactly — the same
/// (secret, attribute, value, M, ε) gives the same subset, which tells the server nothing new,
/// so it is charged once. Client-local; stored as JSON (`obclip protect --budget-file`). Memo
/// keys are kept as SHA-256 digests so the file does not list the values in clear.
public struct PrivacyBudget: Codable, Equatable, Sendable {
    /// Attribute name → total ε spent.
    public private(set) var spent: [String: Double] = [:]
    /// Attribute name → hex digests of the memoised releases already charged.
    public private(set) var charged: [String: Set<String>] = [:]
    /// Requests accounted so far.
    public private(set) var requests = 0

    public init() {}

    /// Charges one release of `attribute`; returns the ε added (0 for a repeated memo key).
    mutating func charge(attribute: String, epsilon: Double, memoKey: String?) -> Double {
        if let memoKey {
            let digest = SHA256.hash(Array(memoKey.utf8)).map { String(format: "%02x", $0) }.joined()
            guard charged[attribute, default: []].insert(digest).inserted else { return 0 }
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
