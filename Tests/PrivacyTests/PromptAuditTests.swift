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
}
