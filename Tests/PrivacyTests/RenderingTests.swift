import XCTest
@testable import Privacy

final class RenderingTests: XCTestCase {
    let obfuscator = Obfuscator()

    func testIndefiniteArticleFollowsPronunciation() {
        for word in ["old", "Asian", "Indian", "18-year-old", "80-year-old", "11-year-old", "LGBT", "MRI", "hour", "honest", "X-ray", "elderly"] {
            XCTAssertTrue(IndefiniteArticle.takesAn(word), word)
        }
        for word in ["young", "European", "one-eyed", "unicorn", "university", "20-year-old", "100-year-old", "Black", "UFO", "NASA", "user", "middle-aged"] {
            XCTAssertFalse(IndefiniteArticle.takesAn(word), word)
        }
    }

    func testArticlesAreRecomputedForEveryCandidate() throws {
        let set = try obfuscator.obfuscate("An old European woman")
        XCTAssertEqual(Array(set.candidates.prefix(6)), [
            "A young Caucasian man", "A young African man", "A young Asian man", "A young Indian man", "A young European man",
            "A middle-aged Caucasian man",
        ])
        XCTAssertTrue(set.candidates.contains("An old Indian woman"))
        XCTAssertTrue(try obfuscator.obfuscate("a 45-year-old man").candidates.contains("a 75-year-old man"))
        XCTAssertEqual(try obfuscator.obfuscate("a 70-year-old man").candidates.first, "a 25-year-old man")
        XCTAssertTrue(try obfuscator.obfuscate("A 20-YEAR-OLD MAN").candidates.contains("A 25-YEAR-OLD WOMAN"))
        XCTAssertTrue(try obfuscator.obfuscate("AN OLD MAN").candidates.contains("A YOUNG WOMAN"))
    }

    func testPronounsFollowTheirPersonIncludingAmbiguousHer() throws {
        // An object pronoun is not its clause's own subject: "him" is the dog, "her" someone else.
        XCTAssertEqual(try obfuscator.obfuscate("a woman and her dog; she throws him a ball").candidates,
                       ["a man and his dog; he throws him a ball", "a man and his dog; he throws her a ball",
                        "a woman and her dog; she throws him a ball", "a woman and her dog; she throws her a ball"])
        XCTAssertEqual(try obfuscator.obfuscate("a man looking at her").candidates,
                       ["a man looking at him", "a man looking at her", "a woman looking at him", "a woman looking at her"])
        // A possessive determiner never refers to the noun it determines.
        XCTAssertEqual(try obfuscator.obfuscate("her son smiling").candidates,
                       ["his son smiling", "his daughter smiling", "her son smiling", "her daughter smiling"])
        // After a ditransitive verb, "her" + a person or a second object is possessive.
        XCTAssertTrue(try obfuscator.obfuscate("a woman gives her daughter a hug").candidates.contains("a man gives his daughter a hug"))
        XCTAssertTrue(try obfuscator.obfuscate("a woman gives her flowers").candidates.contains("a woman gives him flowers"))
        XCTAssertEqual(try obfuscator.obfuscate("the hat is hers.").candidates, ["the hat is his.", "the hat is hers."])
        XCTAssertEqual(try obfuscator.obfuscate("give him flowers").candidates, ["give him flowers", "give her flowers"])
        XCTAssertEqual(try obfuscator.obfuscate("an artist painting herself").candidates,
                       ["an artist painting himself", "an artist painting herself"])
        XCTAssertEqual(try obfuscator.obfuscate("She's smiling").candidates, ["He's smiling", "She's smiling"])
    }

    func testGenderedNounsOccupationsAndKinshipSwapTogether() throws {
        let set = try obfuscator.obfuscate("a waitress and her mother")
        XCTAssertEqual(set.candidates, ["a waiter and his father", "a waiter and his mother", "a waitress and her father", "a waitress and her mother"])
        XCTAssertTrue(try obfuscator.obfuscate("an actress").candidates.contains("an actor"))
        XCTAssertTrue(try obfuscator.obfuscate("Businessmen at a table").candidates.contains("Businesswomen at a table"))
        XCTAssertTrue(try obfuscator.obfuscate("a woman's face").candidates.contains("a man's face"))
    }

    func testCapitalisationAndPunctuationAreKept() throws {
        XCTAssertEqual(try obfuscator.obfuscate("Woman!").candidates, ["Man!", "Woman!"])
        XCTAssertEqual(try obfuscator.obfuscate("WOMAN, (portrait:1.2)").candidates, ["MAN, (portrait:1.2)", "WOMAN, (portrait:1.2)"])
        XCTAssertTrue(try obfuscator.obfuscate("a  young   woman ...").candidates.contains("an  old   man ..."))
        // Proper adjectives are capitalised in every candidate, whatever the prompt wrote.
        XCTAssertTrue(try obfuscator.obfuscate("a black man").candidates.contains("an Asian man"))
        XCTAssertTrue(try obfuscator.obfuscate("an asian man").candidates.contains("an Asian man"))
    }

    func testNoPersonMeansNothingToHide() throws {
        let set = try obfuscator.obfuscate("a red car on a rainy street, 8k")
        XCTAssertEqual(set.candidates, ["a red car on a rainy street, 8k"])
        XCTAssertEqual(set.realIndex, 0)
        XCTAssertEqual(set.report.slots, [])
        XCTAssertEqual(set.report.maxPosterior, 1)
    }

    func testReportUsesThePriorNotOneInN() throws {
        let report = try obfuscator.obfuscate("a young woman").report
        XCTAssertEqual(report.candidateCount, 6)
        XCTAssertEqual(report.uniformGuessProbability, 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(report.maxPosterior, 0.57 * 0.80, accuracy: 1e-9)
        XCTAssertEqual(report.effectiveK, 1 / (0.57 * 0.80), accuracy: 1e-9)
        XCTAssertEqual(report.attributeTypesRevealed, ["gender", "age"])
        XCTAssertEqual(report.slots.map(\.hiddenAmong), [["male", "female"], ["young", "middle-aged", "old"]])
    }

    func testGrammarCheckerCatchesTells() {
        let checker = GrammarChecker(taxonomy: .standard())
        XCTAssertEqual(checker.check("a old man").map(\.rule), ["article"])
        XCTAssertEqual(checker.check("a woman holding his hat").map(\.rule), ["gender agreement"])
        XCTAssertEqual(checker.check("two woman walking").map(\.rule), ["number agreement"])
        XCTAssertEqual(checker.check("an Asian Asian man").map(\.rule), ["repeated word"])
        XCTAssertEqual(checker.check("a young man aged 70").map(\.rule), ["age agreement"])
        XCTAssertEqual(checker.check("a man gives him daughter a hug").map(\.rule), ["pronoun case"])
        XCTAssertEqual(checker.check("the hat is hers hat").map(\.rule), ["pronoun case"])
        XCTAssertEqual(checker.check("an old woman holding her hat"), [])
    }

    func testTooManyCandidatesIsRefused() {
        let small = Obfuscator(maxCandidates: 10)
        XCTAssertThrowsError(try small.obfuscate("an old Asian woman")) { error in
            XCTAssertEqual(error as? PrivacyError, .tooManyCandidates(count: 30, limit: 10))
        }
    }

    /// Regression (found by `scripts/fuzz.sh PrivacyEngine`): twenty people with three attributes
    /// each have 30²⁰ candidates, past `Int.max`; the count trapped instead of being refused.
    func testACandidateCountPastIntMaxIsRefusedNotOverflowed() {
        let crowd = "a photo of " + Array(repeating: "an old Indian woman", count: 20).joined(separator: ", ")
        let obfuscator = Obfuscator()
        XCTAssertEqual(obfuscator.template(of: crowd).candidateCount, .max)
        XCTAssertThrowsError(try obfuscator.obfuscate(crowd)) { error in
            XCTAssertEqual(error as? PrivacyError, .tooManyCandidates(count: .max, limit: 1024))
            XCTAssertTrue("\(error)".contains("more than \(Int.max) candidate renderings"), "\(error)")
        }
    }
}
