/// Byte-pair encoding over token ids: a word starts as one symbol per byte-level character (the
/// last one carrying CLIP's `</w>` word-end marker) and the adjacent pair with the lowest merge
/// rank is merged, everywhere in the word, until no ranked pair remains.
struct BytePairEncoder: Sendable {
    /// Merged token for a pair of token ids, with its rank (earlier merges win).
    private struct Merge: Sendable { let rank: Int32; let result: Int32 }

    /// Ids of single byte-level characters, plain and with `</w>`, indexed by byte value.
    private let byteIDs: [Int32]
    private let finalByteIDs: [Int32]
    private let merges: [UInt64: Merge]
    /// The most bytes of a word one token spells (the longest merge result, `</w>` not
    /// counted): a word of b bytes becomes at least ⌈b / longestTokenBytes⌉ tokens.
    let longestTokenBytes: Int

    /// Fails with a description if the vocabulary lacks a byte character or a merge result.
    init(vocabulary: [String: Int], merges pairs: [(String, String)]) throws(BPEVocabularyError) {
        var byteIDs: [Int32] = [], finalByteIDs: [Int32] = []
        for c in ByteLevelAlphabet.characters {
            guard let plain = vocabulary[String(c)], let final = vocabulary[String(c) + "</w>"] else {
                throw .missingToken(String(c))
            }
            byteIDs.append(Int32(plain))
            finalByteIDs.append(Int32(final))
        }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(pairs.count)
        var longest = 1
        for (rank, (a, b)) in pairs.enumerated() {
            // Byte-level characters are one scalar per byte.
            longest = max(longest, (a + b).unicodeScalars.count - ((a + b).hasSuffix("</w>") ? 4 : 0))
            guard let ia = vocabulary[a] else { throw .missingToken(a) }
            guard let ib = vocabulary[b] else { throw .missingToken(b) }
            guard let merged = vocabulary[a + b] else { throw .missingToken(a + b) }
            let key = Self.key(Int32(ia), Int32(ib))
            if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: Int32(merged)) }
        }
        self.byteIDs = byteIDs
        self.finalByteIDs = finalByteIDs
        self.merges = merges
        longestTokenBytes = longest
    }

    private static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// The token ids of one pre-tokenised word.
    func encode(word: String) -> [Int] {
        let bytes = Array(word.utf8)
        guard !bytes.isEmpty else { return [] }
        var symbols = bytes.dropLast().map { byteIDs[Int($0)] } + [finalByteIDs[Int(bytes.last!)]]
        while symbols.count > 1 {
            var best: Merge?
            for i in 0..<(symbols.count - 1) {
                if let m = merges[Self.key(symbols[i], symbols[i + 1])], m.rank < best?.rank ?? .max { best = m }
            }
            guard let merge = best else { break }
            var merged: [Int32] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count, let m = merges[Self.key(symbols[i], symbols[i + 1])], m.rank == merge.rank {
                    merged.append(m.result)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols.map(Int.init)
    }
}

/// A vocabulary/merges pair that cannot drive byte-level BPE.
enum BPEVocabularyError: Error {
    case missingToken(String)
}
