import ArgumentParser
import Foundation
import Privacy

/// `obclip protect "prompt"`: shows the oblivious candidate set a prompt would be sent as, and
/// what it does and does not hide.
struct Protect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the candidate prompts the server would see for a prompt, and what they hide.")

    @Argument(help: "The prompt to protect.")
    var prompt: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: "Taxonomy: a JSON file, or a bundled name (\(Taxonomy.bundledNames.joined(separator: ", "))).")
    var taxonomy: String = "default"

    @Option(name: .customLong("dp-epsilon"), help: "DP subset mode: privacy budget ε (needs --subset).")
    var dpEpsilon: Double?

    @Option(help: "DP subset mode: send only this many candidates (M < N).")
    var subset: Int?

    @Option(name: .customLong("secret-file"), help: "DP subset mode: memoise the subset per (secret, attributes, values) with this secret (≥16 bytes). Without it, the system CSPRNG is used for every query.")
    var secretFile: String?

    func validate() throws {
        if (dpEpsilon == nil) != (subset == nil) { throw ValidationError("--dp-epsilon and --subset go together") }
        if secretFile != nil, dpEpsilon == nil { throw ValidationError("--secret-file only applies with --dp-epsilon and --subset") }
    }

    func run() throws {
        do {
            let obfuscator = Obfuscator(taxonomy: try loadTaxonomy(taxonomy))
            let set = try obfuscator.obfuscate(prompt)
            var selection: SubsetSelection?
            if let dpEpsilon, let subset {
                let mechanism = try SubsetMechanism(epsilon: dpEpsilon, subsetSize: subset)
                let randomness: SubsetMechanism.Randomness = try secretFile.map {
                    .memoized(secret: try SubsetMechanism.readSecret(from: URL(fileURLWithPath: $0)))
                } ?? .system
                selection = try mechanism.select(from: set, randomness: randomness)
            }
            if json {
                print(try ProtectOutput(set: set, selection: selection).jsonString())
            } else {
                printText(set, selection)
            }
        } catch let error as PrivacyError {
            throw ValidationError(error.description)
        }
    }

    private func printText(_ set: CandidateSet, _ selection: SubsetSelection?) {
        let report = set.report
        print("N = \(report.candidateCount) candidates (canonical order; * = yours, kept on this device):")
        for (index, candidate) in set.candidates.enumerated() {
            let mark = index == set.realIndex ? "*" : " "
            let sent = selection.map { $0.candidateIndices.contains(index) ? " [sent]" : "" } ?? ""
            print(String(format: "%@ %3d  %@%@", mark, index, candidate, sent))
        }
        if report.slots.isEmpty {
            print("No sensitive attribute found: the prompt is sent as it is.")
        }
        for slot in report.slots {
            print("hidden: person \(slot.person) (\"\(slot.personWord)\") \(slot.attribute) among {\(slot.hiddenAmong.joined(separator: ", "))}")
        }
        if !report.attributeTypesRevealed.isEmpty {
            print("revealed by the set's shape: that the prompt mentions \(report.attributeTypesRevealed.joined(separator: ", "))")
        }
        for word in report.unhidden {
            print("NOT hidden: \"\(word.word)\" (\(word.kind.rawValue); reveals \(word.reveals.joined(separator: ", "))): \(word.why)")
        }
        for note in report.notes { print("note: \(note)") }
        print(String(format: "server's best guess is right with probability %.3f under the population prior (effective k = %.2f; 1/N = %.3f)",
                     report.maxPosterior, report.effectiveK, report.uniformGuessProbability))
        print(String(format: "prior probability of your own values: %.3f", report.realValuesProbability))
        if let selection {
            print(String(format: "DP subset: %d of %d sent, ε = %g (%@); your variant is processed in the cloud with probability %.2f%@",
                         selection.subsetSize, selection.fullSize, selection.epsilon,
                         selection.memoized ? "memoised per secret and values" : "fresh CSPRNG randomness",
                         selection.inclusionProbability,
                         selection.realIndex == nil ? " — this time it was NOT drawn: generate on the device only" : ""))
            print(String(format: "the server's odds can grow at most e^ε = %.2f-fold: best guess ≤ %.3f under the prior (%.3f under a uniform prior)",
                         exp(selection.epsilon), selection.maxPosteriorBound, selection.maxPosteriorUniformPrior))
        }
    }
}

/// Loads `--taxonomy`: a bundled name or a path to a JSON file.
func loadTaxonomy(_ nameOrPath: String) throws -> Taxonomy {
    if Taxonomy.bundledNames.contains(nameOrPath) { return try Taxonomy.bundled(nameOrPath) }
    return try Taxonomy.load(contentsOf: URL(fileURLWithPath: nameOrPath))
}

/// The JSON form of `obclip protect`.
private struct ProtectOutput: Encodable {
    var candidates: [String]
    var candidateCount: Int
    var realIndex: Int
    var report: PrivacyReport
    var dpSubset: SubsetSelection?

    init(set: CandidateSet, selection: SubsetSelection?) {
        candidates = set.candidates
        candidateCount = set.candidates.count
        realIndex = set.realIndex
        report = set.report
        dpSubset = selection
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
