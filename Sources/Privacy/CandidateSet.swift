/// The oblivious candidate set for one prompt: what the client sends (`candidates`, in canonical
/// order) and what it keeps (`realIndex`, `report`).
public struct CandidateSet: Sendable {
    /// The prompt as the user typed it. Never sent; the device may condition on it locally.
    public let prompt: String
    /// All N renderings of the template, in canonical order. This is what goes on the wire.
    public let candidates: [String]
    /// Index of the prompt's own values in `candidates`. Keep it on the device.
    public let realIndex: Int
    /// The public template the set was rendered from.
    public let template: PromptTemplate
    /// The taxonomy the set was built with (names the slots' attributes and values).
    public let taxonomy: Taxonomy
    /// What was hidden, what was not, and what the server can still guess.
    public let report: PrivacyReport

    /// The candidate rendered with the prompt's own values: the prompt itself except for the
    /// slot words listed in `report.normalisedWords`. The device conditions on this text (not on
    /// `prompt`), so its steps continue exactly the trajectory the server ran for this row.
    public var realCandidate: String { candidates[realIndex] }

    /// The value names of candidate `index`, one per slot, as "attribute=value".
    public func valueNames(ofCandidate index: Int) -> [String] {
        zip(template.slots, template.values(ofCandidate: index)).map { slot, value in
            let attribute = taxonomy.attributes[slot.attribute]
            return "\(attribute.name)=\(attribute.values[value].name)"
        }
    }
}
