import XCTest
@testable import Privacy

/// The rendering property: for generated sentence templates and *every* combination of the
/// attribute values put into them, the prompt's set has no grammar tell (no candidate breaks a
/// rule), the real candidate is the prompt byte for byte, the set is the same whichever values
/// were written, and each combination is found at its own index.
final class RenderingPropertyTests: XCTestCase {
    let taxonomy = Taxonomy.standard()
    lazy var obfuscator = Obfuscator(taxonomy: taxonomy)
    lazy var grammar = GrammarChecker(taxonomy: taxonomy)

    /// One person as the test writes it: values by attribute name, rendered with canonical forms.
    struct Person {
        var gender: String = "male"
        var age: String?
        var ethnicity: String?
        var noun: Taxonomy.GenderedNoun
    }

    /// Sentence bodies. {P1} is person 1's full phrase with its article; {K2} is person 2's bare
    /// noun (kinship or gendered occupation); {SUB1} {OBJ1} {POS1} {PP1} {REF1} and {SUB2} {OBJ2}
    /// {POS2} are their pronouns. Each body exercises a pronoun role against varied owners and
    /// varied possessed nouns.
    static let bodies = [
        "{P1} holding {POS1} {K2}'s hand",
        "{P1} and {POS1} {K2} at the beach",
        "{P1} gives {POS1} {K2} a hug",
        "{P1} smiling while {POS1} {K2} gives {OBJ1} flowers",
        "{P1} with {POS1} {K2}; {SUB2} hugs {OBJ1}",
        "{P1} painting {REF1}, {POS1} {K2} watching",
        "{P1} reading, the book is {PP1}",
        "{P1} and {POS1} {K2}, {SUB2} smiles at {OBJ1}",
        "{POS1} {K2} smiling",
        "{P1} looking at {POS1} {K2}'s photo of {REF2}",
        "{P1} in a cafe, {SUB1} is holding {POS1} cup",
        "{P1} next to {POS1} smiling {K2}",
    ]
    static let openers = ["", "a photo of ", "Portrait of ", "cinematic still, ", "RAW photo, (closeup:1.2), "]
    static let closers = ["", ", golden hour", ". 35mm", ", oil painting, highly detailed"]

    /// A fixed article table, independent of the engine's article rule.
    static let articles = ["young": "a", "middle-aged": "a", "old": "an", "Caucasian": "a", "African": "an", "Asian": "an",
                           "Indian": "an", "European": "a"]

    func pronouns(_ gender: String) -> Taxonomy.PronounSet { taxonomy.pronouns[gender]! }

    func canonical(_ attribute: String, _ value: String) -> String {
        taxonomy.attribute(named: attribute)!.values.first { $0.name == value }!.forms[0]
    }

    func phrase(_ person: Person) -> String {
        var words: [String] = []
        if let age = person.age { words.append(canonical("age", age)) }
        if let ethnicity = person.ethnicity { words.append(canonical("ethnicity", ethnicity)) }
        let noun = person.noun.forms[person.gender]![0]
        let article = words.first.map { Self.articles[$0]! } ?? (["a", "e", "i", "o", "u"].contains(noun.first!) ? "an" : "a")
        return ([article] + words + [noun]).joined(separator: " ")
    }

    func write(_ body: String, opener: String, closer: String, _ p1: Person, _ p2: Person) -> String {
        var text = opener + body + closer
        let one = pronouns(p1.gender), two = pronouns(p2.gender)
        for (key, value) in [("{P1}", phrase(p1)), ("{K2}", p2.noun.forms[p2.gender]![0]),
                             ("{SUB1}", one.subject), ("{OBJ1}", one.object), ("{POS1}", one.possessive),
                             ("{PP1}", one.possessivePronoun), ("{REF1}", one.reflexive),
                             ("{SUB2}", two.subject), ("{OBJ2}", two.object), ("{POS2}", two.possessive), ("{REF2}", two.reflexive)] {
            text = text.replacingAll(key, value)
        }
        return text
    }

    func testEveryValueCombinationOfGeneratedTemplates() throws {
        let nouns = taxonomy.genderedNouns.filter { $0.implies == nil && $0.forms["male"]![0] != "male" }
        var generator = SeededGenerator(seed: 17)
        let genders = ["male", "female"], ages = ["young", "middle-aged", "old"]
        let ethnicities = ["caucasian", "african", "asian", "indian", "european"]
        var prompts = 0
        for (bodyIndex, body) in Self.bodies.enumerated() {
            for variant in 0..<2 {
                let opener = Self.openers[generator.uniform(below: Self.openers.count)]
                let closer = Self.closers[generator.uniform(below: Self.closers.count)]
                let noun1 = nouns[generator.uniform(below: nouns.count)], noun2 = nouns[generator.uniform(below: nouns.count)]
                // Person 1 carries every attribute in one variant, gender and age in the other
                // (keeping N small enough to check every combination's full set).
                let withEthnicity = variant == 0
                let usesPerson1Phrase = body.contains("{P1}"), hasPerson2 = body.contains("{K2}")
                var combinations: [(Person, Person, [String])] = []
                for g1 in genders {
                    for a1 in (usesPerson1Phrase ? ages : [nil]) as [String?] {
                        for e1 in (usesPerson1Phrase && withEthnicity ? ethnicities : [nil]) as [String?] {
                            for g2 in (hasPerson2 ? genders : [nil]) as [String?] {
                                let p1 = Person(gender: g1, age: a1, ethnicity: e1, noun: noun1)
                                let p2 = Person(gender: g2 ?? "male", noun: noun2)
                                let values = ["gender=\(g1)"] + (a1.map { ["age=\($0)"] } ?? []) + (e1.map { ["ethnicity=\($0)"] } ?? [])
                                    + (g2.map { ["gender=\($0)"] } ?? [])
                                combinations.append((p1, p2, values))
                            }
                        }
                    }
                }
                var reference: CandidateSet?
                var seenIndices = Set<Int>()
                for (p1, p2, values) in combinations {
                    let prompt = write(body, opener: opener, closer: closer, p1, p2)
                    let set = try obfuscator.obfuscate(prompt)
                    prompts += 1
                    XCTAssertEqual(set.realCandidate, prompt, "body \(bodyIndex): real rendering is not the prompt")
                    XCTAssertEqual(set.report.normalisedWords, [], prompt)
                    XCTAssertEqual(set.valueNames(ofCandidate: set.realIndex), values, prompt)
                    XCTAssertEqual(set.candidates.count, combinations.count, prompt)
                    if let reference {
                        XCTAssertEqual(set.candidates, reference.candidates, "set depends on the values: \(prompt)")
                    } else {
                        reference = set
                        for candidate in set.candidates {
                            let violations = grammar.check(candidate)
                            XCTAssertEqual(violations, [], "grammar tell in \"\(candidate)\" of \"\(prompt)\"")
                        }
                    }
                    XCTAssertTrue(seenIndices.insert(set.realIndex).inserted, prompt)
                }
            }
        }
        XCTAssertGreaterThan(prompts, 300)
    }

    /// Prompts written with non-canonical forms: the real candidate differs from the prompt only
    /// in the reported slot words, and putting those back gives the prompt.
    func testNonCanonicalFormsAreTheOnlyDifference() throws {
        for prompt in ["an elderly asian woman with her son", "A 18-year-old white man and his wife", "a Japanese grandmother, 80",
                       "a woman holding his hat", "a middle aged Kenyan doctor in his 40s"] {
            let set = try obfuscator.obfuscate(prompt)
            var rebuilt = set.realCandidate
            for word in set.report.normalisedWords {
                let range = try XCTUnwrap(rebuilt.range(of: word.rendered), "\(word) in \(rebuilt)")
                rebuilt.replaceSubrange(range, with: word.written)
            }
            XCTAssertEqual(rebuilt, prompt)
            XCTAssertEqual(set.report.normalisedWords.isEmpty, set.realCandidate == prompt, prompt)
        }
        XCTAssertEqual(try obfuscator.obfuscate("an elderly asian woman").report.normalisedWords,
                       [NormalisedWord(written: "elderly", rendered: "old"), NormalisedWord(written: "asian", rendered: "Asian")])
    }
}
