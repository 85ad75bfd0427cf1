import Foundation

/// CLIP's tokenizer, producing the same ids as transformers' `CLIPTokenizer` (loaded from a
/// Stable Diffusion `tokenizer/` directory) for any text: clean-up and splitting as described in
/// `CLIPPreTokenizer`, byte-level BPE with the `</w>` word-end marker, then
/// `<|startoftext|>` … `<|endoftext|>` padded to 77 ids.
///
/// Literal special tokens in a prompt behave as in transformers with SD's tokenizer config:
/// `<|endoftext|>` typed exactly becomes the end-of-text id, `<|startoftext|>` (matched after
/// lowercasing) the start-of-text id; other spellings are ordinary text.
public struct CLIPTokenizer: Sendable {
    /// The sequence length of CLIP's text encoder (its position-embedding count).
    public static let contextLength = 77

    public let startOfTextID: Int
    public let endOfTextID: Int
    /// The id sequences are padded with: `<|endoftext|>` for SD 1.x, a model's own `pad_token` otherwise.
    public private(set) var paddingID: Int
    /// Token string → id.
    public let vocabulary: [String: Int]
    private let encoder: BytePairEncoder

    /// A tokenizer from an explicit vocabulary and merge list (in rank order). `source` names
    /// where they came from, for errors.
    public init(vocabulary: [String: Int], merges: [(String, String)], paddingToken: String? = nil, source: String) throws {
        guard let bos = vocabulary["<|startoftext|>"], let eos = vocabulary["<|endoftext|>"] else {
            throw LoadError.invalidFile(path: source, detail: "vocabulary lacks <|startoftext|> or <|endoftext|>")
        }
        var padding = eos
        if let paddingToken {
            guard let id = vocabulary[paddingToken] else {
                throw LoadError.invalidFile(path: source, detail: "padding token '\(paddingToken)' is not in the vocabulary")
            }
            padding = id
        }
        do {
            encoder = try BytePairEncoder(vocabulary: vocabulary, merges: merges)
        } catch .missingToken(let token) {
            throw LoadError.invalidFile(path: source, detail: "vocabulary lacks token '\(token)' needed by the byte alphabet or a merge")
        }
        self.vocabulary = vocabulary
        startOfTextID = bos
        endOfTextID = eos
        paddingID = padding
    }

    /// The same tokenizer padding with `token` (SDXL's `tokenizer_2`, OpenCLIP's, pads with `!`).
    public func padding(with token: String) throws -> CLIPTokenizer {
        guard let id = vocabulary[token] else {
            throw LoadError.invalidFile(path: "<tokenizer>", detail: "padding token '\(token)' is not in the vocabulary")
        }
        var copy = self
        copy.paddingID = id
        return copy
    }

    /// Reads a transformers tokenizer directory: `vocab.json`, `merges.txt` and, if present,
    /// the `pad_token` of `special_tokens_map.json` / `tokenizer_config.json`.
    public init(directory: URL) throws {
        let vocabURL = directory.appendingPathComponent("vocab.json")
        let vocabulary = try ModelDirectory.decodeJSON([String: Int].self, from: vocabURL)
        let mergesURL = directory.appendingPathComponent("merges.txt")
        guard let text = try? String(contentsOf: mergesURL, encoding: .utf8) else {
            throw FileManager.default.fileExists(atPath: mergesURL.path)
                ? LoadError.invalidFile(path: mergesURL.path, detail: "not readable UTF-8 text")
                : LoadError.missingFile(path: mergesURL.path, purpose: "BPE merges")
        }
        var merges: [(String, String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || (number == 0 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw LoadError.invalidFile(path: mergesURL.path, detail: "line \(number + 1) is not a pair of tokens: '\(line)'")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        try self.init(vocabulary: vocabulary, merges: merges, paddingToken: try Self.paddingToken(in: directory), source: directory.path)
    }

    /// CLIP's own vocabulary, shipped with obclip (no model directory needed). Loaded once.
    public static func bundled() throws -> CLIPTokenizer { try bundledTokenizer.get() }

    private static let bundledTokenizer = Result { try CLIPTokenizer(bundledVocabulary: BundledResources.clipBPEVocabulary) }

    /// Builds the vocabulary as CLIP does from `bpe_simple_vocab_16e6.txt`: the 256 byte
    /// characters, the same with `</w>`, one token per merge for the first 48 894 merges (the
    /// lines after the header), then `<|startoftext|>` and `<|endoftext|>` — 49 408 ids.
    init(bundledVocabulary url: URL) throws {
        let mergeCount = 49152 - 256 - 2
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw LoadError.missingFile(path: url.path, purpose: "bundled CLIP BPE vocabulary")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeCount)
        // Split off only the lines needed; the file holds 262 145 merges.
        for line in text.split(separator: "\n", maxSplits: mergeCount + 1).dropFirst().prefix(mergeCount) {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else {
                throw LoadError.invalidFile(path: url.path, detail: "merge '\(line)' is not a pair of tokens")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        guard merges.count == mergeCount else {
            throw LoadError.invalidFile(path: url.path, detail: "has \(merges.count) merges, CLIP needs \(mergeCount)")
        }
        var tokens = ByteLevelAlphabet.vocabularyOrder.map { String($0) }
        tokens += tokens.map { $0 + "</w>" }
        tokens += merges.map { $0.0 + $0.1 }
        tokens += ["<|startoftext|>", "<|endoftext|>"]
        let vocabulary = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        try self.init(vocabulary: vocabulary, merges: merges, source: url.path)
    }

    /// `[<|startoftext|>, tokens…, <|endoftext|>, padding…]`, exactly `length` ids; text beyond
    /// `length − 2` tokens is cut off, the end-of-text id is always kept.
    public func encode(_ text: String, length: Int = CLIPTokenizer.contextLength) -> [Int] {
        precondition(length >= 2, "a CLIP sequence needs room for start and end tokens")
        var ids = [startOfTextID] + tokens(text).prefix(length - 2) + [endOfTextID]
        ids += repeatElement(paddingID, count: length - ids.count)
        return ids
    }

    /// The ids of `text` alone: no start/end tokens, no truncation.
    public func tokens(_ text: String) -> [Int] {
        var ids: [Int] = []
        walk(text) { piece in
            switch piece {
            case .special(let id): ids.append(id)
            case .word(let word): ids += encoder.encode(word: word)
            }
            return true
        }
        return ids
    }

    /// `tokens(text).count` when that is at most `limit`; otherwise some number above `limit`.
    ///
    /// What a server checks a hostile candidate with: BPE is quadratic in a word's length (a
    /// single 16 KiB word took seconds), so counting stops once past `limit`, and a word too long
    /// to fit in what is left is counted by the fewest tokens it could be (each token spells at
    /// most `longestTokenBytes` bytes) instead of being encoded. The work is then bounded by
    /// `limit`, not by the length of the text.
    public func tokenCount(_ text: String, stoppingAbove limit: Int) -> Int {
        var count = 0
        walk(text) { piece in
            switch piece {
            case .special: count += 1
            case .word(let word):
                let fewest = (word.utf8.count + encoder.longestTokenBytes - 1) / encoder.longestTokenBytes
                count += count + fewest > limit ? fewest : encoder.encode(word: word).count
            }
            return count <= limit
        }
        return count
    }

    /// The most bytes one token spells (see `tokenCount(_:stoppingAbove:)`).
    public var longestTokenBytes: Int { encoder.longestTokenBytes }

    /// A piece of text as BPE sees it: a literal special token, or a pre-tokenised word.
    private enum Piece {
        case special(Int)
        case word(String)
    }

    /// Visits the pieces of `text` in order until `visit` returns false: the literal
    /// `<|endoftext|>` / `<|startoftext|>` tokens (see the type's documentation) and the words
    /// of the normalised text between them.
    private func walk(_ text: String, _ visit: (Piece) -> Bool) {
        for (rawIndex, raw) in text.components(separatedBy: "<|endoftext|>").enumerated() {
            if rawIndex > 0, !visit(.special(endOfTextID)) { return }
            for (index, normalized) in CLIPPreTokenizer.normalize(raw).components(separatedBy: "<|startoftext|>").enumerated() {
                if index > 0, !visit(.special(startOfTextID)) { return }
                for word in CLIPPreTokenizer.words(normalized) where !visit(.word(word)) { return }
            }
        }
    }

    /// The `pad_token` named by the directory's tokenizer configuration, if any.
    private static func paddingToken(in directory: URL) throws -> String? {
        struct SpecialTokens: Decodable {
            let padToken: TokenSpelling?
            enum CodingKeys: String, CodingKey { case padToken = "pad_token" }
        }
        /// transformers writes special tokens either as a string or as an AddedToken object.
        enum TokenSpelling: Decodable {
            case plain(String)
            case added(content: String)
            var content: String { switch self { case .plain(let s), .added(let s): s } }
            init(from decoder: Decoder) throws {
                if let s = try? decoder.singleValueContainer().decode(String.self) { self = .plain(s); return }
                struct Added: Decodable { let content: String }
                self = .added(content: try Added(from: decoder).content)
            }
        }
        for name in ["special_tokens_map.json", "tokenizer_config.json"] {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            if let pad = try ModelDirectory.decodeJSON(SpecialTokens.self, from: url).padToken { return pad.content }
        }
        return nil
    }
}
