import Foundation

/// Text clean-up and word splitting exactly as transformers' (tokenizers-backed) `CLIPTokenizer`:
///
/// 1. normalise: Unicode NFC, every run of White_Space characters → one space, lowercase;
/// 2. split with CLIP's pattern
///    `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`,
///    dropping the whitespace between matches;
/// 3. split each piece again with GPT-2's byte-level pattern (which only matters for the
///    literal `<|…|>` pieces: `<|`, `endoftext`, `|>`).
///
/// The patterns are implemented as scanners over Unicode scalars (what the regex engine
/// matches on) rather than with a regex library, so classes follow the Unicode general
/// categories: letters L*, numbers N*.
enum CLIPPreTokenizer {
    static func normalize(_ text: String) -> String {
        let composed = text.precomposedStringWithCanonicalMapping
        var collapsed = String.UnicodeScalarView()
        var inWhitespace = false
        for scalar in composed.unicodeScalars {
            if scalar.properties.isWhitespace {
                if !inWhitespace { collapsed.append(" ") }
                inWhitespace = true
            } else {
                collapsed.append(scalar)
                inWhitespace = false
            }
        }
        return String(collapsed).lowercased()
    }

    /// The words BPE runs on, in order, for already normalised text.
    static func words(_ normalized: String) -> [String] {
        let scalars = Array(normalized.unicodeScalars)
        var words: [String] = []
        for piece in split(scalars, singleDigits: true, specialTokens: true) {
            for word in split(Array(piece), singleDigits: false, specialTokens: false) {
                var s = String.UnicodeScalarView()
                s.append(contentsOf: word)
                words.append(String(s))
            }
        }
        return words
    }

    private static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }
    private static let specialTokens: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>"].map { Array($0.unicodeScalars) }

    private static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    private static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    /// One leftmost-first pass of the pattern; whitespace never ends up in a piece.
    /// `singleDigits`: CLIP's `[\p{N}]` (one number per piece) versus GPT-2's `\p{N}+`.
    /// `specialTokens`: CLIP's leading `<|startoftext|>|<|endoftext|>` alternatives.
    private static func split(_ s: [Unicode.Scalar], singleDigits: Bool, specialTokens matchSpecial: Bool) -> [ArraySlice<Unicode.Scalar>] {
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var i = 0
        func startsWith(_ p: [Unicode.Scalar], at j: Int) -> Bool {
            j + p.count <= s.count && s[j..<(j + p.count)].elementsEqual(p)
        }
        while i < s.count {
            let c = s[i]
            if c.properties.isWhitespace { i += 1; continue }
            if matchSpecial, let special = specialTokens.first(where: { startsWith($0, at: i) }) {
                pieces.append(s[i..<(i + special.count)])
                i += special.count
                continue
            }
            if c == "'", let suffix = contractions.first(where: { startsWith($0, at: i + 1) }) {
                pieces.append(s[i..<(i + 1 + suffix.count)])
                i += 1 + suffix.count
                continue
            }
            var j = i + 1
            if isLetter(c) {
                while j < s.count, isLetter(s[j]) { j += 1 }
            } else if isNumber(c) {
                if !singleDigits { while j < s.count, isNumber(s[j]) { j += 1 } }
            } else {
                while j < s.count, !isLetter(s[j]), !isNumber(s[j]), !s[j].properties.isWhitespace { j += 1 }
            }
            pieces.append(s[i..<j])
            i = j
        }
        return pieces
    }
}
