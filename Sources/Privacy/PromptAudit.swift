import Foundation

/// The leak audit over a file of prompts (`obclip audit-prompts`): how many prompts had slots,
/// the distribution of N, closure and grammar failures, and how well a simple distinguisher —
/// grammar rules plus a character n-gram model trained on the other prompts of the file —
/// picks out the real candidate. Under obliviousness the real candidate's rank is uniform on
/// 1…N, so its mean reciprocal rank is H_N/N; a higher MRR means the set leaks (or the file's
/// prompts are skewed towards some values, which is the prior problem, not a rendering tell).
public struct PromptAudit: Sendable {
    public struct Result: Codable, Equatable, Sendable {
        public var prompts: Int
        public var promptsWithSlots: Int
        /// N → number of prompts (N = 1: nothing hidden).
        public var candidateCountHistogram: [String: Int]
        /// Prompts the engine refused (too many candidates, closure check), with the reason.
        public var refused: [String]
        /// Prompts whose set is not reproduced by obfuscating one of its candidates.
        public var closureFailures: [String]
        /// Candidates breaking a grammar rule that the prompt's real rendering does not break.
        public var grammarFailures: [String]
        /// Sets whose candidates differ in how many grammar rules they break (a tell).
        public var grammarTells: Int
        /// Mean reciprocal rank of the real candidate under the distinguisher (prompts with N > 1).
        public var meanReciprocalRank: Double
        /// What that MRR is under perfect obliviousness: the mean of H_N/N.
        public var idealMeanReciprocalRank: Double
        /// Prompts where the real candidate alone scored best.
        public var realUniquelyTop: Int
        /// The same distinguisher with its language model trained on the other prompts' full
        /// candidate sets (every value equally often) instead of the raw prompts. Near the ideal,
        /// it shows that a gap in `meanReciprocalRank` comes from value skew in the file (the
        /// prior), not from a rendering tell.
        public var balancedMeanReciprocalRank: Double
        public var recall: [RecallProbe.ValueRecall]
        /// The distinguishers side by side, overall and per attribute, with and without the
        /// population prior: the character n-gram above and the word language model.
        public var distinguishers: [DistinguisherReport]
        /// Prompts with slots whose real candidate is the prompt byte for byte (the rest differ
        /// only in normalised slot words, see `PrivacyReport.normalisedWords`).
        public var exactRealRenderings: Int
        /// Slot words normalised over the file, as "written → rendered" → count.
        public var normalisedWords: [String: Int]
        /// Attribute → number of hidden slots of it over the file.
        public var slotHistogram: [String: Int]
    }

    /// How well one distinguisher picks out the real candidate.
    public struct DistinguisherReport: Codable, Equatable, Sendable {
        /// Per attribute: each slot's real value ranked among its domain, the other slots held
        /// at their real values (ideal H_d/d for a domain of d values).
        public struct AttributeRank: Codable, Equatable, Sendable {
            public var attribute: String
            public var slots: Int
            public var meanReciprocalRank: Double
            public var meanReciprocalRankWithPrior: Double
            public var idealMeanReciprocalRank: Double
        }

        public var name: String
        /// Real candidate's MRR among the N ranked by score (grammar, then the model).
        public var meanReciprocalRank: Double
        /// The same with the log population prior of each candidate's values added to its score.
        public var meanReciprocalRankWithPrior: Double
        public var idealMeanReciprocalRank: Double
        public var realUniquelyTop: Int
        public var perAttribute: [AttributeRank]
    }

    /// Accumulates one distinguisher's ranks over the sets.
    struct DistinguisherTally {
        var name: String
        var overall: [Double] = [], overallWithPrior: [Double] = [], ideals: [Double] = []
        var uniquelyTop = 0
        var byAttribute: [String: (ranks: [Double], withPrior: [Double], ideals: [Double])] = [:]
        var attributeOrder: [String] = []

        mutating func add(set: CandidateSet, scores: [Double]) {
            let template = set.template
            let logPrior: [Double] = set.candidates.indices.map { index in
                zip(template.slots, template.values(ofCandidate: index)).reduce(0.0) {
                    $0 + log(max(PrivacyReport.prior(of: set.taxonomy.attributes[$1.0.attribute])[$1.1], 1e-300))
                }
            }
            let withPrior = zip(scores, logPrior).map(+)
            let (reciprocal, top) = PromptAudit.reciprocalRank(of: set.realIndex, scores: scores)
            overall.append(reciprocal)
            overallWithPrior.append(PromptAudit.reciprocalRank(of: set.realIndex, scores: withPrior).reciprocal)
            ideals.append(PromptAudit.idealReciprocalRank(set.candidates.count))
            if top { uniquelyTop += 1 }
            let real = template.values(ofCandidate: set.realIndex)
            for (position, slot) in template.slots.enumerated() {
                let variants = (0..<slot.domainSize).map { value -> Int in
                    var values = real
                    values[position] = value
                    return template.candidateIndex(of: values)
                }
                let name = set.taxonomy.attributes[slot.attribute].name
                if byAttribute[name] == nil { attributeOrder.append(name) }
                byAttribute[name, default: ([], [], [])].ranks.append(
                    PromptAudit.reciprocalRank(of: real[position], scores: variants.map { scores[$0] }).reciprocal)
                byAttribute[name]!.withPrior.append(PromptAudit.reciprocalRank(of: real[position], scores: variants.map { withPrior[$0] }).reciprocal)
                byAttribute[name]!.ideals.append(PromptAudit.idealReciprocalRank(slot.domainSize))
            }
        }

        var report: DistinguisherReport {
            func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
            return DistinguisherReport(
                name: name, meanReciprocalRank: mean(overall), meanReciprocalRankWithPrior: mean(overallWithPrior),
                idealMeanReciprocalRank: mean(ideals), realUniquelyTop: uniquelyTop,
                perAttribute: attributeOrder.map { name in
                    let tally = byAttribute[name]!
                    return .init(attribute: name, slots: tally.ranks.count, meanReciprocalRank: mean(tally.ranks),
                                 meanReciprocalRankWithPrior: mean(tally.withPrior), idealMeanReciprocalRank: mean(tally.ideals))
                })
        }
    }

    /// H_n / n: the expected reciprocal rank of a uniformly placed item among n.
    static func idealReciprocalRank(_ n: Int) -> Double { (1...n).reduce(0.0) { $0 + 1 / Double($1) } / Double(n) }

    public let taxonomy: Taxonomy
    /// The language-model adversary (nil: the bundled word model).
    public let languageModel: WordNGramModel
    public init(taxonomy: Taxonomy, languageModel: WordNGramModel? = nil) {
        self.taxonomy = taxonomy
        self.languageModel = languageModel ?? .bundled
    }

    /// Largest N for which closure is also checked string by string.
    static let stringCheckLimit = 36

    public func run(prompts: [String]) -> Result {
        let obfuscator = Obfuscator(taxonomy: taxonomy)
        let grammar = GrammarChecker(taxonomy: taxonomy)
        var model = CharacterNGramModel()
        for prompt in prompts { model.add(prompt) }
        var result = Result(prompts: prompts.count, promptsWithSlots: 0, candidateCountHistogram: [:], refused: [],
                            closureFailures: [], grammarFailures: [], grammarTells: 0, meanReciprocalRank: 0,
                            idealMeanReciprocalRank: 0, realUniquelyTop: 0, balancedMeanReciprocalRank: 0,
                            recall: RecallProbe(taxonomy: taxonomy).measure(), distinguishers: [],
                            exactRealRenderings: 0, normalisedWords: [:], slotHistogram: [:])
        var characterTally = DistinguisherTally(name: "grammar + character 5-gram LM (leave-one-out on this file)")
        var wordTally = DistinguisherTally(name: "grammar + word 3-gram Kneser-Ney LM (Austen + WordNet, bundled)")
        let sets = prompts.map { try? obfuscator.obfuscate($0) }
        var balanced = CharacterNGramModel()
        for set in sets.compactMap({ $0 }) { for candidate in set.candidates { balanced.add(candidate) } }
        var reciprocalRanks: [Double] = []
        var balancedRanks: [Double] = []
        var ideals: [Double] = []
        for (prompt, built) in zip(prompts, sets) {
            let set: CandidateSet
            do { set = try built ?? obfuscator.obfuscate(prompt) } catch let error as PrivacyError {
                if case .closureViolation = error { result.closureFailures.append(prompt) } else { result.refused.append("\(prompt): \(error)") }
                continue
            } catch {
                result.refused.append("\(prompt): \(error)")
                continue
            }
            let n = set.candidates.count
            result.candidateCountHistogram[String(n), default: 0] += 1
            guard n > 1 else { continue }
            result.promptsWithSlots += 1
            if set.realCandidate == prompt { result.exactRealRenderings += 1 }
            for slot in set.report.slots { result.slotHistogram[slot.attribute, default: 0] += 1 }
            for word in set.report.normalisedWords { result.normalisedWords["\(word.written) → \(word.rendered)", default: 0] += 1 }
            // Closure: every candidate reads back into the same template, hence the same ordered
            // set. For small sets the rendered strings themselves are compared too (N² renders).
            for candidate in set.candidates {
                let template = obfuscator.template(of: candidate)
                if template != set.template || (n <= Self.stringCheckLimit && obfuscator.candidates(of: template) != set.candidates) {
                    result.closureFailures.append(prompt)
                    break
                }
            }
            let violations = set.candidates.map { grammar.check($0).count }
            let baseline = violations[set.realIndex]
            for (candidate, count) in zip(set.candidates, violations) where count > baseline {
                result.grammarFailures.append(candidate + " — " + grammar.check(candidate).map(\.description).joined(separator: "; "))
            }
            if Set(violations).count > 1 { result.grammarTells += 1 }
            // The distinguisher: fewest grammar violations first, then the most plausible text
            // under a model of the *other* prompts.
            model.add(prompt, weight: -1)
            let scores = zip(set.candidates, violations).map { candidate, count in model.logProbability(candidate) - 1000 * Double(count) }
            model.add(prompt)
            let (reciprocal, uniquelyTop) = Self.reciprocalRank(of: set.realIndex, scores: scores)
            reciprocalRanks.append(reciprocal)
            ideals.append(Self.idealReciprocalRank(n))
            characterTally.add(set: set, scores: scores)
            wordTally.add(set: set, scores: zip(set.candidates, violations).map { languageModel.logProbability($0) - 1000 * Double($1) })
            if uniquelyTop { result.realUniquelyTop += 1 }
            for candidate in set.candidates { balanced.add(candidate, weight: -1) }
            let balancedScores = zip(set.candidates, violations).map { candidate, count in balanced.logProbability(candidate) - 1000 * Double(count) }
            for candidate in set.candidates { balanced.add(candidate) }
            balancedRanks.append(Self.reciprocalRank(of: set.realIndex, scores: balancedScores).reciprocal)
        }
        if !reciprocalRanks.isEmpty {
            result.meanReciprocalRank = reciprocalRanks.reduce(0, +) / Double(reciprocalRanks.count)
            result.idealMeanReciprocalRank = ideals.reduce(0, +) / Double(ideals.count)
            result.balancedMeanReciprocalRank = balancedRanks.reduce(0, +) / Double(balancedRanks.count)
        }
        result.distinguishers = [characterTally.report, wordTally.report]
        return result
    }

    /// The real candidate's reciprocal rank (best score = rank 1), ties broken uniformly at
    /// random (the expectation over the tie), and whether it alone scored best.
    static func reciprocalRank(of real: Int, scores: [Double]) -> (reciprocal: Double, uniquelyTop: Bool) {
        let better = scores.filter { $0 > scores[real] }.count
        let tied = scores.filter { $0 == scores[real] }.count
        let reciprocal = (better + 1...better + tied).reduce(0.0) { $0 + 1 / Double($1) } / Double(tied)
        return (reciprocal, better == 0 && tied == 1)
    }
}
