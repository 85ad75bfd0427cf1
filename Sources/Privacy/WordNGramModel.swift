import Foundation

/// A word trigram language model with Kneser–Ney smoothing, trained by tools/train_word_lm.py
/// on Jane Austen's novels and WordNet's glosses (Resources/word-lm.bin, licence beside it): the
/// audit's language-model adversary, which ranks a set's candidates by how likely they read as
/// English. Back-off scoring as in ARPA files: p(w | u v) is the stored trigram, else
/// bow(u v)·p(w | v), and so on down to the unigram.
public struct WordNGramModel: Sendable {
    private let vocabulary: [String: UInt32]
    private let vocabularySize: UInt64
    private let unigramLogProb: [Float]
    private let unigramBackoff: [Float]
    private let bigramKeys: [UInt32]
    private let bigramLogProb: [Float]
    private let bigramBackoff: [Float]
    private let trigramKeys: [UInt64]
    private let trigramLogProb: [Float]

    static let unknown: UInt32 = 0, sentenceStart: UInt32 = 1, sentenceEnd: UInt32 = 2

    /// The bundled model. Bundled, so failure is a packaging bug.
    public static let bundled: WordNGramModel = {
        guard let url = Bundle.module.url(forResource: "word-lm", withExtension: "bin", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "word-lm", withExtension: "bin"),
            let data = try? Data(contentsOf: url), let model = try? WordNGramModel(data: data) else {
            preconditionFailure("the bundled word language model (Resources/word-lm.bin) is missing or broken")
        }
        return model
    }()

    /// Parses the file layout documented in tools/train_word_lm.py.
    public init(data: Data) throws {
        let bytes = [UInt8](data)
        var offset = 0
        func fail(_ why: String) -> PrivacyError { .unreadableTaxonomy(path: "word-lm.bin", reason: why) }
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard offset + count <= bytes.count else { throw fail("truncated at byte \(offset)") }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        func u32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64() throws -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        func f32() throws -> Float { Float(bitPattern: try u32()) }
        guard try Array(take(6)) == Array("OBLM1\n".utf8) else { throw fail("not an OBLM1 file") }
        let v = Int(try u32()), b = Int(try u32()), t = Int(try u32())
        let pMin = try f32(), bMin = try f32(), bMax = try f32()
        func prob(_ q: UInt8) -> Float { (pMin + Float(q) / 255 * (0 - pMin)) * Float(M_LN10) }
        func backoff(_ q: UInt8) -> Float { (bMin + Float(q) / 255 * (bMax - bMin)) * Float(M_LN10) }
        let words = String(decoding: try take(Int(try u32())), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard words.count == v else { throw fail("vocabulary has \(words.count) words, header says \(v)") }
        vocabulary = Dictionary(words.enumerated().map { (String($0.element), UInt32($0.offset)) }) { first, _ in first }
        vocabularySize = UInt64(v)
        let unigrams = try take(2 * v)
        unigramLogProb = stride(from: unigrams.startIndex, to: unigrams.endIndex, by: 2).map { prob(bytes[$0]) }
        unigramBackoff = stride(from: unigrams.startIndex, to: unigrams.endIndex, by: 2).map { backoff(bytes[$0 + 1]) }
        bigramKeys = try (0..<b).map { _ in try u32() }
        let bigrams = try take(2 * b)
        bigramLogProb = stride(from: bigrams.startIndex, to: bigrams.endIndex, by: 2).map { prob(bytes[$0]) }
        bigramBackoff = stride(from: bigrams.startIndex, to: bigrams.endIndex, by: 2).map { backoff(bytes[$0 + 1]) }
        trigramKeys = try (0..<t).map { _ in try u64() }
        trigramLogProb = try take(t).map(prob)
        guard offset == bytes.count else { throw fail("\(bytes.count - offset) trailing bytes") }
    }

    /// The model's tokens of a text: lower-cased runs of letters and digits with inner hyphens,
    /// and apostrophe suffixes ("'s") as tokens of their own — as the training script cuts them.
    static func tokens(_ text: String) -> [String] {
        let characters = Array(text.lowercased().replacingOccurrences(of: "\u{2019}", with: "'"))
        var result: [String] = []
        var index = 0
        func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber }
        while index < characters.count {
            let start = index
            if isWord(characters[index]) {
                while index < characters.count {
                    if isWord(characters[index]) {
                        index += 1
                    } else if characters[index] == "-", index + 1 < characters.count, isWord(characters[index + 1]) {
                        index += 2
                    } else {
                        break
                    }
                }
                result.append(String(characters[start..<index]))
            } else if characters[index] == "'", index + 1 < characters.count, isWord(characters[index + 1]) {
                index += 1
                while index < characters.count, isWord(characters[index]) { index += 1 }
                result.append(String(characters[start..<index]))
            } else {
                index += 1
            }
        }
        return result
    }

    private func search<K: Comparable>(_ keys: [K], _ key: K) -> Int? {
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low < keys.count && keys[low] == key ? low : nil
    }

    private func logProbability(_ w: UInt32, after u: UInt32, _ v: UInt32) -> Float {
        let n = vocabularySize
        if let index = search(trigramKeys, (UInt64(u) * n + UInt64(v)) * n + UInt64(w)) { return trigramLogProb[index] }
        let context = search(bigramKeys, UInt32(UInt64(u) * n + UInt64(v)))
        let contextBackoff = context.map { bigramBackoff[$0] } ?? 0
        if let index = search(bigramKeys, UInt32(UInt64(v) * n + UInt64(w))) { return contextBackoff + bigramLogProb[index] }
        return contextBackoff + unigramBackoff[Int(v)] + unigramLogProb[Int(w)]
    }

    /// Natural-log probability of a text as one sentence (with its end).
    public func logProbability(_ text: String) -> Double {
        let ids = Self.tokens(text).map { vocabulary[$0] ?? Self.unknown } + [Self.sentenceEnd]
        var u = Self.sentenceStart, v = Self.sentenceStart
        var total = 0.0
        for w in ids {
            total += Double(logProbability(w, after: u, v))
            (u, v) = (v, w)
        }
        return total
    }
}
