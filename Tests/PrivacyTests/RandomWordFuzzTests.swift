import XCTest
@testable import Privacy

/// Seeded random word salad over the engine's trickiest vocabulary (pronouns, colour words,
/// numbers, multi-word forms, possessives, odd casing and punctuation). The engine must either
/// return a set that passes its closure check or refuse with a `PrivacyError`; refusals must
/// stay rare. It found the "her her", "wife old doctor" and "South African" bugs.
final class RandomWordFuzzTests: XCTestCase {
    func testWordSaladIsClosedOrRefused() throws {
        let vocabulary = ["a", "an", "the", "man", "woman", "men", "women", "his", "her", "him", "hers", "he", "she", "himself",
                          "herself", "old", "young", "middle", "aged", "elderly", "black", "white", "Asian", "Indian", "girl", "boy",
                          "grandmother", "18-year-old", "70", "years", "in", "40s", "forties", "with", "and", ",", ".", "!", "doctor",
                          "female", "male", "wife", "husband", "waiter", "give", "at", "smiling", "hat", "two", "A", "An", "OLD", "MAN",
                          "age", "year", "people", "she's", "woman's", "girls'", "Japanese", "white-haired", "African", "American",
                          "South", "lady", "gentleman"]
        var generator = SeededGenerator(seed: 99)
        let obfuscator = Obfuscator(maxCandidates: 64)
        var refused: [String] = []
        var withSlots = 0
        let trials = 2000
        for _ in 0..<trials {
            var prompt = ""
            for index in 0..<(2 + generator.uniform(below: 9)) {
                let word = vocabulary[generator.uniform(below: vocabulary.count)]
                prompt += index == 0 || [",", ".", "!"].contains(word) ? word : " " + word
            }
            do {
                let set = try obfuscator.obfuscate(prompt)
                if set.candidates.count > 1 { withSlots += 1 }
                let last = set.candidates.count - 1
                XCTAssertEqual(obfuscator.readBack(set.candidates[last]).index, last, prompt)
            } catch let error as PrivacyError {
                if case .tooManyCandidates = error { continue }
                refused.append("\(prompt): \(error)")
            }
        }
        XCTAssertGreaterThan(withSlots, trials / 2)
        XCTAssertLessThanOrEqual(refused.count, trials / 1000, refused.joined(separator: "\n"))
    }
}
