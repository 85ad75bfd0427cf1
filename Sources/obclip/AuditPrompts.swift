import ArgumentParser
import Foundation
import Privacy

/// `obclip audit-prompts FILE`: the leak audit of the privacy engine over a file of prompts.
struct AuditPrompts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-prompts",
        abstract: "Audit the privacy engine on a file of prompts (one per line; blank lines and lines starting with # are skipped).")

    @Argument(help: "The prompt file.")
    var file: String

    @Option(help: "Taxonomy: a JSON file, or a bundled name (\(Taxonomy.bundledNames.joined(separator: ", "))).")
    var taxonomy: String = "default"

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: "How many failing prompts/candidates to list in text output.")
    var show: Int = 10

    func run() throws {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ValidationError("cannot read prompt file \(file): \(error.localizedDescription)")
        }
        let prompts = text.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
        let loaded: Taxonomy
        do { loaded = try loadTaxonomy(taxonomy) } catch let error as PrivacyError { throw ValidationError(error.description) }
        let result = PromptAudit(taxonomy: loaded).run(prompts: prompts)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("prompts: \(result.prompts), with at least one hidden slot: \(result.promptsWithSlots)")
        let histogram = result.candidateCountHistogram.sorted { Int($0.key)! < Int($1.key)! }
        print("N distribution: " + histogram.map { "N=\($0.key): \($0.value)" }.joined(separator: ", "))
        print("slots: " + result.slotHistogram.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        print("refused: \(result.refused.count)")
        for line in result.refused.prefix(show) { print("  \(line)") }
        print("closure failures: \(result.closureFailures.count)")
        for line in result.closureFailures.prefix(show) { print("  \(line)") }
        print("grammar failures (candidates worse than the real rendering): \(result.grammarFailures.count); sets with a grammar tell: \(result.grammarTells)")
        for line in result.grammarFailures.prefix(show) { print("  \(line)") }
        print(String(format: "distinguisher (grammar + leave-one-out character 5-gram LM): MRR of the real candidate %.4f vs ideal H_N/N %.4f; real candidate uniquely top in %d of %d sets",
                     result.meanReciprocalRank, result.idealMeanReciprocalRank, result.realUniquelyTop, result.promptsWithSlots))
        print(String(format: "same distinguisher, LM trained on the other prompts' full candidate sets (no value skew): MRR %.4f", result.balancedMeanReciprocalRank))
        print("distinguishers (MRR of the real candidate among its N; per attribute: its value among the domain, other slots real):")
        for d in result.distinguishers {
            print(String(format: "  %@: MRR %.4f, with the population prior %.4f, ideal %.4f; uniquely top in %d sets",
                         d.name, d.meanReciprocalRank, d.meanReciprocalRankWithPrior, d.idealMeanReciprocalRank, d.realUniquelyTop))
            for a in d.perAttribute {
                print(String(format: "    %@ (%d slots): MRR %.4f, with prior %.4f, ideal %.4f", a.attribute, a.slots,
                             a.meanReciprocalRank, a.meanReciprocalRankWithPrior, a.idealMeanReciprocalRank))
            }
        }
        print("real candidate = prompt byte for byte: \(result.exactRealRenderings) of \(result.promptsWithSlots); the others differ only in normalised slot words")
        print("per-value detection recall (built-in frames × every surface form):")
        for value in result.recall {
            print(String(format: "  %@=%@: %.4f (%d/%d)", value.attribute, value.value, value.recall, value.hits, value.trials))
            for miss in value.misses { print("    missed: \(miss)") }
        }
    }
}
