/// Turns a prompt into its oblivious candidate set: detect the sensitive attributes, make the
/// template, render every combination of the slots' domains in canonical order, and check the
/// closure invariant before anything is handed out.
///
/// ```swift
/// let set = try Obfuscator(taxonomy: .standard()).obfuscate("a photo of an old Indian woman")
/// send(set.candidates)          // N prompts, canonical order
/// keep(set.realIndex)           // stays on the device
/// print(set.report.maxPosterior) // the server's best-guess probability under the prior
/// ```
public struct Obfuscator: Sendable {
    public let taxonomy: Taxonomy
    /// Refuse sets larger than this (the server runs the large model on every candidate).
    public let maxCandidates: Int
    private let lexicon: Lexicon

    public init(taxonomy: Taxonomy = .standard(), maxCandidates: Int = 1024) {
        self.taxonomy = taxonomy
        self.maxCandidates = maxCandidates
        self.lexicon = Lexicon(taxonomy)
    }

    /// The public template of a prompt (what the candidate set is a function of).
    public func template(of prompt: String) -> PromptTemplate { AttributeDetector(lexicon: lexicon).detect(prompt).template }

    /// Where the words the candidate set varies are in `prompt` (for marking them as it is typed).
    public func highlights(of prompt: String) -> [PromptHighlight] { AttributeDetector(lexicon: lexicon).detect(prompt).highlights }

    /// Reads a text back the way `obfuscate` would: its template and the candidate index of
    /// its own values (for closure checks without rebuilding every set).
    func readBack(_ text: String) -> (template: PromptTemplate, index: Int) {
        let detection = AttributeDetector(lexicon: lexicon).detect(text)
        return (detection.template, detection.template.candidateIndex(of: detection.realValues))
    }

    /// Renders a template for one value per slot.
    public func render(_ template: PromptTemplate, values: [Int]) -> String {
        TemplateRenderer(lexicon: lexicon).render(template, values: values)
    }

    /// Every rendering of a template, in canonical order.
    public func candidates(of template: PromptTemplate) -> [String] {
        let renderer = TemplateRenderer(lexicon: lexicon)
        return (0..<template.candidateCount).map { renderer.render(template, values: template.values(ofCandidate: $0)) }
    }

    /// Builds the candidate set of `prompt`. Throws if the set would exceed `maxCandidates`, or
    /// if re-obfuscating any candidate would not reproduce the set (which would let the server
    /// single out the real prompt); in both cases the prompt must not go to the server.
    public func obfuscate(_ prompt: String) throws -> CandidateSet {
        let detection = AttributeDetector(lexicon: lexicon).detect(prompt)
        let template = detection.template
        let count = template.candidateCount
        guard count <= maxCandidates else { throw PrivacyError.tooManyCandidates(count: count, limit: maxCandidates) }
        let candidates = self.candidates(of: template)
        // Closure: every candidate must read back into the same template, hence the same set.
        for candidate in candidates where AttributeDetector(lexicon: lexicon).detect(candidate).template != template {
            throw PrivacyError.closureViolation(candidate: candidate)
        }
        guard Set(candidates).count == candidates.count else {
            throw PrivacyError.closureViolation(candidate: "duplicate renderings in the set of \"\(prompt)\"")
        }
        let realIndex = template.candidateIndex(of: detection.realValues)
        let realPieces = TemplateRenderer(lexicon: lexicon).renderPieces(template, values: detection.realValues)
        let normalised = zip(detection.originals, realPieces).compactMap { written, rendered in
            written.flatMap { $0 == rendered ? nil : NormalisedWord(written: $0, rendered: rendered) }
        }
        let swapped = zip(template.pieces, zip(detection.originals, realPieces)).compactMap { piece, texts -> SwappedName? in
            guard case .firstName = piece, let written = texts.0 else { return nil }
            return SwappedName(written: written, rendered: texts.1, stillReveals: SwappedName.stillRevealsText)
        }
        let report = PrivacyReport(template: template, taxonomy: taxonomy, realValues: detection.realValues,
                                   personLabels: detection.personLabels, unhidden: detection.unhidden, notes: detection.notes,
                                   normalisedWords: normalised, swappedNames: swapped)
        return CandidateSet(prompt: prompt, candidates: candidates, realIndex: realIndex, template: template,
                            taxonomy: taxonomy, report: report)
    }
}
