import XCTest
@testable import Privacy

final class DetectionTests: XCTestCase {
    let obfuscator = Obfuscator()

    func slots(_ prompt: String, _ obfuscator: Obfuscator? = nil) throws -> [String] {
        let set = try (obfuscator ?? self.obfuscator).obfuscate(prompt)
        return zip(set.report.slots, set.valueNames(ofCandidate: set.realIndex)).map { "\($0.0.person):\($0.1)" }
    }

    /// Recall must not depend on the value: every form of every value in the same frames.
    func testPerValueRecallIsPerfectAndEqualAcrossEachDomain() throws {
        for name in Taxonomy.bundledNames {
            let recall = RecallProbe(taxonomy: try .bundled(name)).measure()
            XCTAssertFalse(recall.isEmpty)
            for value in recall {
                XCTAssertGreaterThan(value.trials, 20, "\(value.attribute)=\(value.value)")
                XCTAssertEqual(value.recall, 1, "\(name): \(value.attribute)=\(value.value) missed \(value.misses)")
            }
        }
    }

    func testColourWordsAreEthnicityOnlyWhenTheyDescribeAPerson() throws {
        XCTAssertEqual(try slots("a black woman in a black dress"), ["1:gender=female", "1:ethnicity=african"])
        XCTAssertEqual(try slots("a black haired woman"), ["1:gender=female"])
        XCTAssertEqual(try slots("a white cat on a white sofa"), [])
        XCTAssertEqual(try slots("a black and white photo of a man"), ["1:gender=male"])
        XCTAssertEqual(try slots("an old white man"), ["1:gender=male", "1:age=old", "1:ethnicity=caucasian"])
        XCTAssertEqual(try slots("A WHITE DOCTOR"), ["1:ethnicity=caucasian"])
        // "South" would turn a rendered "Asian" into "South Asian": it is taken into the slot.
        XCTAssertEqual(try obfuscator.obfuscate("a South African man").candidates.prefix(3), ["a Caucasian man", "an African man", "an Asian man"])
        XCTAssertEqual(try slots("a South Asian man"), ["1:gender=male", "1:ethnicity=indian"])
    }

    func testSeveralPeopleAndPlurals() throws {
        XCTAssertEqual(try slots("two women and an old man"), ["1:gender=female", "2:gender=male", "2:age=old"])
        let set = try obfuscator.obfuscate("two women and an old man")
        XCTAssertEqual(set.candidates.count, 12)
        XCTAssertTrue(set.candidates.contains("two men and a young woman"))
        XCTAssertEqual(try slots("a group of girls laughing"), ["1:gender=female"])
        XCTAssertTrue(try obfuscator.obfuscate("the girls' dresses").candidates.contains("the boys' dresses"))
    }

    func testNumericAgesMapToBands() throws {
        XCTAssertEqual(try slots("an 18-year-old woman"), ["1:gender=female", "1:age=young"])
        XCTAssertEqual(try slots("a man aged 70 reading"), ["1:gender=male", "1:age=old"])
        XCTAssertEqual(try slots("a woman, 45 years old"), ["1:gender=female", "1:age=middle-aged"])
        XCTAssertEqual(try slots("a 30 year old person"), ["1:age=young"])
        XCTAssertEqual(try slots("a woman in her 40s"), ["1:gender=female", "1:age=middle-aged"])
        XCTAssertEqual(try slots("a man in his seventies"), ["1:gender=male", "1:age=old"])
        XCTAssertEqual(try obfuscator.obfuscate("a woman in her 40s").candidates,
                       ["a man in his 20s", "a man in his 40s", "a man in his 70s", "a woman in her 20s", "a woman in her 40s", "a woman in her 70s"])
        // Not a person's age.
        XCTAssertEqual(try slots("a man next to a 100-year-old tree"), ["1:gender=male"])
    }

    func testWordsCarryingTwoAttributesPinTheSecond() throws {
        let set = try obfuscator.obfuscate("a grandmother knitting")
        XCTAssertEqual(set.candidates, ["a grandfather knitting", "a grandmother knitting"])
        XCTAssertEqual(set.report.unhidden.map(\.kind), [.impliedByNoun])
        XCTAssertEqual(set.report.unhidden.first?.reveals, ["age"])
        let boy = try obfuscator.obfuscate("A boy reading")
        XCTAssertEqual(boy.candidates, ["A boy reading", "A girl reading"])
        XCTAssertEqual(boy.report.unhidden.first?.why, "\"boy\" implies age young")
    }

    func testUnhiddenWordsAreReported() throws {
        let set = try obfuscator.obfuscate("a pregnant woman named Fatima in Paris, wearing a hijab")
        let found = Dictionary(uniqueKeysWithValues: set.report.unhidden.map { ($0.word, $0.kind) })
        XCTAssertEqual(found["pregnant"], .revealing)
        XCTAssertEqual(found["Fatima"], .name, "a name outside the list is reported, not swapped")
        XCTAssertEqual(found["Paris"], .place)
        XCTAssertEqual(found["hijab"], .revealing)
        XCTAssertEqual(try obfuscator.obfuscate("a bearded man").report.unhidden.map(\.word), ["bearded"])
        XCTAssertEqual(try obfuscator.obfuscate("an Indian restaurant").report.unhidden.map(\.kind), [.unattached])
        XCTAssertEqual(try obfuscator.obfuscate("a black dress").report.unhidden, [], "colour words are not reported")
        XCTAssertEqual(try obfuscator.obfuscate("a 5-year-old child").report.unhidden.map(\.kind), [.ageOutOfRange])
        XCTAssertEqual(try obfuscator.obfuscate("an 80-year-old grandmother").report.unhidden.map(\.word), ["80-year-old", "grandmother"])
        XCTAssertEqual(try obfuscator.obfuscate("a man, 8 years old").report.unhidden.map(\.kind), [.ageOutOfRange])
    }

    func testDetectionIgnoresCasingSpacingAndPunctuation() throws {
        let plain = try obfuscator.obfuscate("a young asian woman").template.slots
        for variant in ["A YOUNG ASIAN WOMAN", "a  Young   Asian  Woman!!", "(a young Asian woman:1.2)", "\"a young asian woman\"."] {
            XCTAssertEqual(try obfuscator.obfuscate(variant).template.slots, plain, variant)
        }
    }

    func testExtendedTaxonomyHidesReligionAndDisability() throws {
        let extended = Obfuscator(taxonomy: try .bundled("extended"))
        XCTAssertEqual(try slots("a Muslim woman praying", extended), ["1:gender=female", "1:religion=muslim"])
        XCTAssertEqual(try slots("a blind old man with a guitar", extended), ["1:gender=male", "1:age=old", "1:disability=blind"])
        XCTAssertEqual(try extended.obfuscate("a Muslim woman").candidates.count, 12)
        // In the default taxonomy the same word is reported, not hidden.
        XCTAssertEqual(try obfuscator.obfuscate("a Muslim woman").report.unhidden.map(\.word), ["Muslim"])
    }

    /// Places and nationalities are opt-in slots of the extended taxonomy; the default reports them.
    func testExtendedTaxonomyHidesPlacesAndNationalities() throws {
        let extended = Obfuscator(taxonomy: try .bundled("extended"))
        let set = try extended.obfuscate("a Mexican man walking in New York at night")
        XCTAssertEqual(set.valueNames(ofCandidate: set.realIndex), ["gender=male", "nationality=mexican", "place=americas"])
        XCTAssertTrue(set.candidates.contains("a Russian woman walking in Tokyo at night"))
        XCTAssertEqual(set.realCandidate, "a Mexican man walking in New York at night")
        XCTAssertEqual(try extended.obfuscate("from Paris to Tokyo").candidates.count, 36, "each place is a slot of its own")
        XCTAssertEqual(try obfuscator.obfuscate("a Mexican man walking in New York at night").report.unhidden.map(\.kind), [.revealing])
        XCTAssertEqual(try obfuscator.obfuscate("a man in Paris").report.unhidden.map(\.kind), [.place])
    }

    /// A first name of the list is a slot of gender and ethnicity: every candidate carries the
    /// list's name for its own values, the n-th name of the list for the template's n-th name.
    func testFirstNamesBecomeGenderAndEthnicitySlots() throws {
        let set = try obfuscator.obfuscate("Keiko reading in a cafe")
        XCTAssertEqual(set.candidates.count, 10)
        XCTAssertEqual(set.valueNames(ofCandidate: set.realIndex), ["gender=female", "ethnicity=asian"])
        XCTAssertEqual(set.realCandidate, "Keiko reading in a cafe", "Keiko is the list's first female East Asian name")
        XCTAssertEqual(set.report.swappedNames.map(\.written), ["Keiko"])
        XCTAssertTrue(set.candidates.contains("Andrew reading in a cafe"))
        // A described person's adjective decides; the name is rendered to agree with it.
        let named = try obfuscator.obfuscate("an old Indian woman named Margaret, smiling")
        XCTAssertEqual(named.valueNames(ofCandidate: named.realIndex), ["gender=female", "age=old", "ethnicity=indian"])
        XCTAssertEqual(named.report.swappedNames.first?.rendered, "Asha")
        XCTAssertEqual(named.report.swappedNames.first?.written, "Margaret")
        // Two names of one group differ; pronouns follow the named person.
        let two = try obfuscator.obfuscate("Keiko and Akiko with her dog")
        XCTAssertEqual(two.candidates.count, 100)
        XCTAssertTrue(two.candidates.contains("Keiko and Akiko with her dog"))
        XCTAssertTrue(two.candidates.contains("Andrew and James with his dog"))
        // A name in apposition names the person next to it.
        for prompt in ["Keiko, a young woman, smiling", "a young woman, Keiko, smiling"] {
            let set = try obfuscator.obfuscate(prompt)
            XCTAssertEqual(set.valueNames(ofCandidate: set.realIndex), ["gender=female", "age=young", "ethnicity=asian"], prompt)
            XCTAssertEqual(set.realCandidate, prompt)
        }
        // Full names of real people and names in capitals-free text are left as written.
        XCTAssertEqual(try obfuscator.obfuscate("a portrait of Margaret Thatcher").candidates.count, 1)
        XCTAssertEqual(try obfuscator.obfuscate("a portrait of Margaret Thatcher").report.unhidden.map(\.kind), [.name])
        XCTAssertEqual(try obfuscator.obfuscate("keiko reading").candidates.count, 1)
    }
}
