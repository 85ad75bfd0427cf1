import XCTest
@testable import Privacy

final class PromptAuditTests: XCTestCase {
    /// The audit on the committed prompt set: no closure or grammar failure, and the
    /// distinguisher trained on value-balanced text does no better than chance.
    func testAuditOfCommittedPrompts() throws {
        let prompts = try TestPrompts.load()
        let result = PromptAudit(taxonomy: .standard()).run(prompts: prompts)
        XCTAssertEqual(result.prompts, prompts.count)
        XCTAssertEqual(result.closureFailures, [])
        XCTAssertEqual(result.grammarFailures, [])
        XCTAssertEqual(result.grammarTells, 0)
        XCTAssertEqual(result.refused, [])
        XCTAssertEqual(result.candidateCountHistogram.values.reduce(0, +), prompts.count)
        XCTAssertGreaterThan(result.promptsWithSlots, 250)
        XCTAssertEqual(result.balancedMeanReciprocalRank, result.idealMeanReciprocalRank, accuracy: 0.03)
        print("audit: with slots \(result.promptsWithSlots)/\(result.prompts), N \(result.candidateCountHistogram), MRR \(result.meanReciprocalRank) balanced \(result.balancedMeanReciprocalRank) ideal \(result.idealMeanReciprocalRank), uniquely top \(result.realUniquelyTop)")
    }

    func testReciprocalRankSharesTies() {
        XCTAssertEqual(PromptAudit.reciprocalRank(of: 0, scores: [3, 1, 2]).reciprocal, 1)
        XCTAssertEqual(PromptAudit.reciprocalRank(of: 1, scores: [3, 1, 2]).reciprocal, 1.0 / 3)
        XCTAssertEqual(PromptAudit.reciprocalRank(of: 0, scores: [1, 1]).reciprocal, 0.75)
        XCTAssertFalse(PromptAudit.reciprocalRank(of: 0, scores: [1, 1]).uniquelyTop)
    }

    /// A set with a rendering tell is caught: a distinguisher that knows the real wording scores
    /// the real candidate top, and the MRR rises above H_N/N.
    func testLanguageModelPrefersSeenText() {
        var model = CharacterNGramModel()
        for _ in 0..<20 { model.add("a photo of a woman reading") }
        XCTAssertGreaterThan(model.logProbability("a photo of a woman reading"), model.logProbability("a photo of a man reading"))
        model.add("a photo of a woman reading", weight: -20)
        model.add("a photo of a man reading")
        XCTAssertGreaterThan(model.logProbability("a photo of a man reading"), model.logProbability("a photo of a woman reading"))
    }

    /// The audit on the prompts with first names: names become slots without closure failures,
    /// grammar tells or refusals, and both distinguishers are reported per attribute.
    func testAuditOfNamePrompts() throws {
        let prompts = try TestPrompts.load(TestPrompts.nameURL)
        XCTAssertGreaterThanOrEqual(prompts.count, 300)
        let result = PromptAudit(taxonomy: .standard()).run(prompts: prompts)
        XCTAssertEqual(result.closureFailures, [])
        XCTAssertEqual(result.refused, [])
        XCTAssertEqual(result.grammarTells, 0, result.grammarFailures.joined(separator: "\n"))
        XCTAssertGreaterThan(result.promptsWithSlots, 280)
        XCTAssertGreaterThan(result.slotHistogram["ethnicity"] ?? 0, 250, "names carry ethnicity")
        XCTAssertEqual(result.distinguishers.map { $0.perAttribute.map(\.attribute) }.first, ["gender", "ethnicity", "age"])
        for d in result.distinguishers {
            print("names audit: \(d.name): MRR \(d.meanReciprocalRank) with prior \(d.meanReciprocalRankWithPrior) ideal \(d.idealMeanReciprocalRank)")
        }
    }

    /// The word model reads English: it prefers the grammatical article, pronoun case and word
    /// order, and it parses its own file format back (the bundled file loads).
    func testWordLanguageModelPrefersEnglish() {
        let model = WordNGramModel.bundled
        XCTAssertGreaterThan(model.logProbability("an old woman"), model.logProbability("a old woman"))
        XCTAssertGreaterThan(model.logProbability("she walked with her sister"), model.logProbability("she walked with him sister"))
        XCTAssertGreaterThan(model.logProbability("the man was very kind to his daughter"), model.logProbability("daughter kind the his was man very to"))
        XCTAssertEqual(WordNGramModel.tokens("The woman's DOG—well-fed, 3 years"), ["the", "woman", "'s", "dog", "well-fed", "3", "years"])
        XCTAssertThrowsError(try WordNGramModel(data: Data("OBLM1\n".utf8)))
    }

    /// Parity with an independent Python reader of the same file (tools/score_word_lm.py).
    func testWordLanguageModelMatchesThePythonReader() throws {
        struct Score: Decodable { var text: String; var tokens: [String]; var logProbability: Double }
        let url = TestPrompts.url.deletingLastPathComponent().appendingPathComponent("word-lm-scores.json")
        let scores = try JSONDecoder().decode([Score].self, from: Data(contentsOf: url))
        XCTAssertGreaterThan(scores.count, 5)
        for score in scores {
            XCTAssertEqual(WordNGramModel.tokens(score.text), score.tokens, score.text)
            XCTAssertEqual(WordNGramModel.bundled.logProbability(score.text), score.logProbability, accuracy: 1e-3, score.text)
        }
    }
}
