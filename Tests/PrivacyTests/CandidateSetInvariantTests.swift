import XCTest
@testable import Privacy

/// The invariants that make a candidate set oblivious, on the committed prompt set and on
/// seeded random prompts whose ground truth is known.
final class CandidateSetInvariantTests: XCTestCase {
    let obfuscator = Obfuscator()
    let grammar = GrammarChecker(taxonomy: .standard())

    /// Checks every invariant on one prompt's set; returns the set.
    @discardableResult
    func assertInvariants(_ prompt: String, file: StaticString = #filePath, line: UInt = #line) throws -> CandidateSet {
        let set = try obfuscator.obfuscate(prompt)
        let n = set.candidates.count
        XCTAssertEqual(n, set.template.candidateCount, prompt, file: file, line: line)
        XCTAssertEqual(Set(set.candidates).count, n, "candidates not distinct: \(prompt)", file: file, line: line)
        // The real candidate is the same function's rendering of the prompt's own values.
        XCTAssertTrue(set.candidates.indices.contains(set.realIndex), prompt, file: file, line: line)
        let detected = obfuscator.template(of: prompt)
        XCTAssertEqual(detected, set.template, file: file, line: line)
        let realValues = set.template.values(ofCandidate: set.realIndex)
        XCTAssertEqual(obfuscator.render(set.template, values: realValues), set.realCandidate, file: file, line: line)
        for (index, candidate) in set.candidates.enumerated() {
            // Closure and order: obfuscating any candidate gives the same ordered set, and the
            // candidate finds itself at its own index (so the order never depends on the real
            // values). The same template renders the same set; for small sets the rendered
            // strings are compared as well.
            let again = obfuscator.readBack(candidate)
            if again.template != set.template || again.index != index {
                XCTFail("closure broken by \"\(candidate)\" (index \(index), read back as \(again.index)) of \"\(prompt)\"", file: file, line: line)
            }
            if n <= 12, index == n - 1 {
                XCTAssertEqual(try obfuscator.obfuscate(candidate).candidates, set.candidates, file: file, line: line)
            }
            // No candidate is worse-formed than the real one, and the engine itself adds no error.
            let violations = grammar.check(candidate)
            if !violations.isEmpty { XCTFail("grammar: \"\(candidate)\" of \"\(prompt)\": \(violations)", file: file, line: line) }
        }
        return set
    }

    func testCommittedPromptSet() throws {
        let prompts = try TestPrompts.load()
        XCTAssertGreaterThanOrEqual(prompts.count, 250)
        var withSlots = 0
        for prompt in prompts {
            let set = try assertInvariants(prompt)
            if set.candidates.count > 1 { withSlots += 1 }
        }
        XCTAssertGreaterThan(withSlots, 250, "most test prompts mention a person")
    }

    /// Seeded random prompts built from every surface form: the detector must find exactly the
    /// attributes that were put in, with their values, and all invariants must hold.
    func testRandomPromptsFromEverySurfaceForm() throws {
        let taxonomy = Taxonomy.standard()
        let gender = taxonomy.genderAttribute!, age = taxonomy.ageAttribute!, ethnicity = taxonomy.attribute(named: "ethnicity")!
        let nouns = taxonomy.genderedNouns.filter { $0.implies == nil && $0.forms["male"]![0] != "male" }
        let scenes = ["reading in a cafe", "walking a dog, watercolor", "at the beach. 35mm", "on a stage; dramatic light",
                      "(portrait:1.2), masterpiece", "in the rain!!", "— cinematic still"]
        var generator = SeededGenerator(seed: 4)
        for trial in 0..<60 {
            let genderValue = generator.uniform(below: 2)
            let ageValue = generator.uniform(below: 3)
            let ethnicityValue = generator.uniform(below: 5)
            let noun = nouns[generator.uniform(below: nouns.count)]
            let plural = generator.uniform(below: 4) == 0
            let nounForm = noun.forms[gender.values[genderValue].name]![plural ? 1 : 0]
            let ageForms = age.values[ageValue].forms
            let useNumber = generator.uniform(below: 3) == 0 && !plural
            let ageText = useNumber ? "\(age.values[ageValue].ageRange![0] + generator.uniform(below: 5))-year-old"
                                    : ageForms[generator.uniform(below: ageForms.count)]
            let ethnicityForms = ethnicity.values[ethnicityValue].forms
            let ethnicityText = ethnicityForms[generator.uniform(below: ethnicityForms.count)]
            let pronouns = taxonomy.pronouns[gender.values[genderValue].name]!
            let tail = plural ? "" : [", \(pronouns.subject) smiles", " with \(pronouns.possessive) hat", ""][generator.uniform(below: 3)]
            var prompt = "\(plural ? "two" : "a") \(ageText) \(ethnicityText) \(nounForm) \(scenes[generator.uniform(below: scenes.count)])\(tail)"
            switch generator.uniform(below: 3) {
            case 0: prompt = prompt.uppercased()
            case 1: prompt = prompt.prefix(1).uppercased() + prompt.dropFirst()
            default: break
            }
            let set = try assertInvariants(prompt)
            let expected = ["gender=\(gender.values[genderValue].name)", "age=\(age.values[ageValue].name)",
                            "ethnicity=\(ethnicity.values[ethnicityValue].name)"]
            XCTAssertEqual(set.valueNames(ofCandidate: set.realIndex), expected, "trial \(trial): \(prompt)")
            XCTAssertEqual(set.candidates.count, 30, prompt)
        }
    }

    /// The order depends only on the template: prompts differing only in their values give
    /// identical sets, whichever surface forms they used.
    func testSetIndependentOfRealValuesAndSurfaceForms() throws {
        let variants = ["an elderly white woman with her cat", "a young Asian man with his cat", "a middle aged black man with his cat",
                        "an old Japanese woman with her cat", "a youthful Caucasian woman with her cat", "an aged European man with his cat"]
        let sets = try variants.map { try obfuscator.obfuscate($0) }
        for set in sets.dropFirst() { XCTAssertEqual(set.candidates, sets[0].candidates) }
        XCTAssertEqual(Set(sets.map(\.realIndex)).count, variants.count, "each variant is a different candidate")
    }
}
