import DeviceClient
import Foundation
import Privacy
import WireProtocol

/// What the page shows while the person types: where the hidden words are and among which
/// values, what stays visible and why, the candidate set the chosen mode sends, and what the
/// server would spend on it. Everything here stays on this machine (it names the real values).
struct PrivacyAnalysis: Encodable, Sendable {
    /// An unhidden word with where it stands in the prompt (UTF-16 offsets; nil if not found verbatim).
    struct Unhidden: Encodable, Sendable {
        var word: UnhiddenWord
        var start: Int?
        var end: Int?
    }

    /// What crosses the wire in the chosen mode.
    struct Sent: Encodable, Sendable {
        /// The prompts the server receives, in canonical order (empty for device-only).
        var candidates: [String]
        /// Model calls the server runs on each.
        var serverSteps: Int
        var totalSteps: Int
        /// Whether the mode hides the prompt among candidates.
        var isPrivate: Bool
    }

    /// The server's cost for the request, counted by the server's own code without arithmetic.
    struct ServerCost: Encodable, Sendable {
        var multiplyAdds: Int64?
        var flops: Double?
        /// The same request with every acceleration off, for comparison.
        var flopsWithoutAccelerations: Double?
        /// Which server architecture the count ran on.
        var model: String
        /// Why there is no count (no server in this mode, or the count failed).
        var unavailable: String?
    }

    var prompt: String
    var taxonomy: String
    var candidateCount: Int
    /// All N renderings, canonical order; `realIndex` marks the person's own.
    var candidates: [String]
    var realIndex: Int
    var highlights: [PromptHighlight]
    var report: PrivacyReport
    var unhidden: [Unhidden]
    var sent: Sent
    /// The DP subset mode's guarantees, from one draw (each generation draws afresh).
    var dpSubset: SubsetSelection?
    var serverCost: ServerCost?
    /// A setting that cannot be used, for the form to point at (the privacy part is still shown).
    var problem: UIProblem?

    /// Analyses `prompt` under `settings`; a settings problem is reported beside the result, an
    /// unusable prompt (too many candidates, a closure failure) is thrown.
    static func make(prompt: String, settings: UISettings, engine: PrivacyEngines, tokenCount: (String) -> Int,
                     cost: ServerCostCounter?) async throws -> PrivacyAnalysis {
        let taxonomy = Taxonomy.bundledNames.contains(settings.taxonomy) ? settings.taxonomy : "default"
        let obfuscator = try engine.obfuscator(taxonomy)
        let set = try obfuscator.obfuscate(prompt)
        var problem: UIProblem?
        var checked: CheckedSettings?
        do { checked = try settings.checked(tokenCount: tokenCount) } catch let error as ChoiceError {
            problem = UIProblem(field: error.field, message: error.message)
        }
        let mode = checked?.mode ?? .obclip
        let generation = checked?.generation ?? GenerationSettings()
        var request = mode.cloudRequest(for: set, seed: 0, settings: generation)
        var dpSubset: SubsetSelection?
        if let mechanism = checked?.subset, mode.isPrivate {
            do {
                dpSubset = try mechanism.select(from: set, randomness: .system)
                request?.candidates = dpSubset!.candidates
            } catch let error as PrivacyError {
                problem = problem ?? UIProblem(field: "dpSubsetSize", message: error.description)
            }
        }
        if let request, problem == nil {
            do { try UISettings.check(request, tokenCount: tokenCount) } catch let error as ChoiceError {
                problem = UIProblem(field: error.field, message: error.message)
            }
        }
        var serverCost: ServerCost?
        if let cost {
            if let request, checked != nil {
                serverCost = await cost.cost(of: request)
            } else {
                serverCost = ServerCost(model: cost.model, unavailable: checked == nil ? "fix the settings first" : "no server in mode \(mode.rawValue)")
            }
        }
        return PrivacyAnalysis(
            prompt: prompt, taxonomy: taxonomy, candidateCount: set.candidates.count, candidates: set.candidates, realIndex: set.realIndex,
            highlights: obfuscator.highlights(of: prompt), report: set.report,
            unhidden: set.report.unhidden.map { word in
                let range = wordRange(of: word.word, in: prompt)
                return Unhidden(word: word, start: range?.lowerBound, end: range?.upperBound)
            },
            sent: Sent(candidates: request?.candidates ?? [], serverSteps: request?.switchStep ?? 0, totalSteps: generation.steps,
                       isPrivate: mode.isPrivate),
            dpSubset: dpSubset, serverCost: serverCost, problem: problem)
    }

    /// The first whole-word occurrence of `word` in `text`, as UTF-16 offsets.
    static func wordRange(of word: String, in text: String) -> Range<Int>? {
        guard !word.isEmpty else { return nil }
        var searchStart = text.startIndex
        while let found = text.range(of: word, range: searchStart..<text.endIndex) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            if !(before?.isLetter ?? false), !(after?.isLetter ?? false) {
                let start = text.utf16.distance(from: text.startIndex, to: found.lowerBound)
                return start..<(start + word.utf16.count)
            }
            searchStart = found.upperBound
        }
        return nil
    }
}

/// One obfuscator per bundled taxonomy, built once (building the lexicon is the costly part).
struct PrivacyEngines: Sendable {
    private let obfuscators: [String: Obfuscator]

    init() throws {
        obfuscators = try Dictionary(uniqueKeysWithValues: Taxonomy.bundledNames.map { ($0, Obfuscator(taxonomy: try Taxonomy.bundled($0))) })
    }

    func obfuscator(_ taxonomy: String) throws -> Obfuscator {
        guard let obfuscator = obfuscators[taxonomy] else {
            throw UIProblem(field: "taxonomy", message: "unknown taxonomy '\(taxonomy)'; one of \(Taxonomy.bundledNames.joined(separator: ", "))")
        }
        return obfuscator
    }
}
