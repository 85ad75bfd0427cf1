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

    @Flag(help: "DP subset mode for linked requests: draw --subset values per attribute (at most |D|−1) with budget --dp-epsilon each, memoised per (secret, attribute, value) with --secret-file, and send their product.")
    var linked = false

    @Option(name: .customLong("budget-file"), help: "Linked DP mode: the per-attribute privacy-budget ledger (JSON) to read, charge and write back.")
    var budgetFile: String?

    func validate() throws {
        if (dpEpsilon == nil) != (subset == nil) { throw ValidationError("--dp-epsilon and --subset go together") }
        if secretFile != nil, dpEpsilon == nil { throw ValidationError("--secret-file only applies with --dp-epsilon and --subset") }
        if linked, dpEpsilon == nil { throw ValidationError("--linked needs --dp-epsilon and --subset") }
        if budgetFile != nil, !linked { throw ValidationError("--budget-file only applies with --linked") }
    }

    func run() throws {
        do {
            let obfuscator = Obfuscator(taxonomy: try loadTaxonomy(taxonomy))
            let set = try obfuscator.obfuscate(prompt)
            var selection: SubsetSelection?
            var linkedSelection: LinkedSelection?
            if let dpEpsilon, let subset {
                let randomness: SubsetMechanism.Randomness = try secretFile.map {
                    .memoized(secret: try SubsetMechanism.readSecret(from: URL(fileURLWithPath: $0)))
                } ?? .system
                if linked {
                    let budgetURL = budgetFile.map { URL(fileURLWithPath: $0) }
                    var budget = try budgetURL.map { try PrivacyBudget.load(from: $0) } ?? PrivacyBudget()
                    let mechanism = try AttributeSubsetMechanism(taxonomy: set.taxonomy, epsilon: dpEpsilon, subsetSize: subset)
                    linkedSelection = try mechanism.select(from: set, randomness: randomness, budget: &budget)
                    budget.countRequest()
                    try budgetURL.map { try budget.save(to: $0) }
                } else {
                    selection = try SubsetMechanism(epsilon: dpEpsilon, subsetSize: subset).select(from: set, randomness: randomness)
                }
            }
            if json {
                print(try ProtectOutput(set: set, selection: selection, linked: linkedSelection).jsonString())
            } else {
                printText(set, selection)
                if let linkedSelection { printLinked(linkedSelection) }
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
        if !report.normalisedWords.isEmpty {
            let words = report.normalisedWords.map { "\"\($0.written)\" → \"\($0.rendered)\"" }.joined(separator: ", ")
            print("your prompt is generated as \"\(set.realCandidate)\" on the server and on this device (\(words))")
        }
        for name in report.swappedNames {
            print("name: \"\(name.written)\" is sent as \"\(name.rendered)\" in your candidate; the server still learns \(name.stillReveals)")
        }
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

extension Protect {
    private func printLinked(_ selection: LinkedSelection) {
        print("linked DP subset: \(selection.candidates.count) of \(selection.fullSize) sent (\(selection.memoized ? "memoised per secret, attribute and value" : "fresh CSPRNG randomness: linking these requests intersects them"))")
        for release in selection.releases {
            print(String(format: "  person %d %@: sent {%@} (%d of %d, ε = %g, p(real sent) = %.2f), charged ε %g",
                         release.person, release.attribute, release.sent.joined(separator: ", "), release.subsetSize, release.domainSize,
                         release.epsilon, release.inclusionProbability, release.charged))
        }
        print(String(format: "your variant is processed in the cloud with probability %.2f%@", selection.inclusionProbability,
                     selection.realIndex == nil ? " — this time it was NOT drawn: generate on the device only" : ""))
        print("privacy budget spent so far: " + selection.budget.sorted { $0.key < $1.key }.map { String(format: "%@ ε=%g", $0.key, $0.value) }.joined(separator: ", "))
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
    var linkedSubset: LinkedSelection?

    init(set: CandidateSet, selection: SubsetSelection?, linked: LinkedSelection?) {
        candidates = set.candidates
        candidateCount = set.candidates.count
        realIndex = set.realIndex
        report = set.report
        dpSubset = selection
        linkedSubset = linked
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
