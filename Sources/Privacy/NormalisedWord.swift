/// A word of the prompt that the real candidate writes differently from the prompt: the
/// canonical form of its value ("elderly" → "old", "asian" → "Asian"), the band's
/// representative age ("18" → "25"), a recomputed article, or a pronoun made to agree with its
/// person. One function renders every candidate from the public template, the real one
/// included, so only such slot words can differ; everything else is byte for byte the prompt.
/// The device conditions on that rendering (`CandidateSet.realCandidate`), not on the typed
/// prompt, so the server's steps and the device's steps see the same text.
public struct NormalisedWord: Codable, Equatable, Sendable {
    /// The text as the prompt wrote it.
    public var written: String
    /// The text every candidate with the prompt's own values carries instead.
    public var rendered: String
}

/// A first name the engine swapped: every candidate carries a name from the bundled list that
/// is typical of that candidate's own gender and ethnicity values, chosen by its position in
/// the template, so the name adds nothing about those values beyond the set itself.
public struct SwappedName: Codable, Equatable, Sendable {
    /// The name as the prompt wrote it (client-local).
    public var written: String
    /// The name the real candidate carries instead.
    public var rendered: String
    /// What the server still learns from the name slot.
    public var stillReveals: String

    static let stillRevealsText = "that the person is referred to by a first name (the slot types are public); not the name you wrote: " +
        "every candidate carries the list's name for its own gender and ethnicity, fixed by the template, so what your name said " +
        "beyond those values (nationality within a group, religion, age cohort, family) is not sent"
}
