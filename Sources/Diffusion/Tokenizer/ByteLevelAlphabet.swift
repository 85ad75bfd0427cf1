/// GPT-2/CLIP's reversible byte → printable-character map: BPE runs on strings of these
/// characters, so every byte sequence (any UTF-8 text, emoji included) has a spelling and no
/// input is ever unknown.
enum ByteLevelAlphabet {
    /// `characters[b]` is the character that stands for byte `b`.
    static let characters: [Character] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var codes = printable
        var extra = 0
        for b in 0..<256 where !printable.contains(b) {
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
        }
        var map = [Character](repeating: " ", count: 256)
        for (b, c) in zip(printable, codes) { map[b] = Character(Unicode.Scalar(UInt32(c))!) }
        return map
    }()

    /// The 256 characters in the order CLIP assigns them ids 0…255: printable bytes first, then
    /// the remapped control/space bytes (`bytes_to_unicode().values()` order).
    static let vocabularyOrder: [Character] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        let rest = (0..<256).filter { !printable.contains($0) }
        return (printable + rest).map { characters[$0] }
    }()
}
