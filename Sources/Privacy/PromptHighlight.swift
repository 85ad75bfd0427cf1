/// Where a prompt's hidden words are, so a user interface can mark them as the person types.
/// Offsets count UTF-16 code units, as a browser's string indices do.
public struct PromptHighlight: Codable, Equatable, Sendable {
    /// First code unit of the words.
    public var start: Int
    /// One past the last code unit.
    public var end: Int
    /// The words as written.
    public var text: String
    /// Index into the candidate set's slots (and the report's `slots`) of the attribute these
    /// words carry; nil for an article ("a"/"an") that is recomputed for every candidate.
    public var slot: Int?
}
