import Foundation

/// A character n-gram language model with Witten–Bell interpolation: the audit's stand-in for
/// a server that ranks candidates by how plausible they read. Counts can be removed again, so
/// the audit scores each prompt with a model trained on all the other prompts (leave-one-out).
struct CharacterNGramModel {
    let order: Int
    /// Per context (hashed with its length): total count and counts of each next scalar.
    private var contexts: [UInt64: (total: Int, next: [UInt32: Int])] = [:]
    /// Distinct scalars ever seen; the base distribution is uniform over them plus one unseen.
    private var alphabet = Set<UInt32>()

    init(order: Int = 5) { self.order = order }

    /// Scalars of a text with start and end markers.
    private static func scalars(_ text: String) -> [UInt32] { [2] + text.unicodeScalars.map(\.value) + [3] }

    /// FNV-1a hashes of the contexts of lengths 0..<order ending before `index`.
    private func contextKeys(_ scalars: [UInt32], before index: Int) -> [UInt64] {
        var keys: [UInt64] = []
        var hash: UInt64 = 0xcbf29ce484222325
        for length in 0..<order where index - length >= 0 {
            if length > 0 { hash = (hash ^ UInt64(scalars[index - length])) &* 0x100000001b3 }
            keys.append(hash ^ UInt64(length) &* 0x9E3779B97F4A7C15)
        }
        return keys
    }

    /// Adds (`weight` 1) or removes (`weight` −1) a text's counts.
    mutating func add(_ text: String, weight: Int = 1) {
        let scalars = Self.scalars(text)
        for index in scalars.indices.dropFirst() {
            if weight > 0 { alphabet.insert(scalars[index]) }
            for key in contextKeys(scalars, before: index) {
                // Mutated in place: copying the inner table out and back costs O(types) per update.
                contexts[key, default: (0, [:])].total += weight
                let updated = (contexts[key]!.next[scalars[index]] ?? 0) + weight
                contexts[key]!.next[scalars[index]] = updated > 0 ? updated : nil
            }
        }
    }

    /// Natural-log probability of `text` (including its end).
    func logProbability(_ text: String) -> Double {
        let scalars = Self.scalars(text)
        var total = 0.0
        for index in scalars.indices.dropFirst() {
            var probability = 1.0 / Double(alphabet.count + 1)
            for key in contextKeys(scalars, before: index) {
                guard let entry = contexts[key], entry.total > 0 else { continue }
                let types = Double(entry.next.count)
                let count = Double(entry.next[scalars[index]] ?? 0)
                probability = (count + types * probability) / (Double(entry.total) + types)
            }
            total += log(probability)
        }
        return total
    }
}
