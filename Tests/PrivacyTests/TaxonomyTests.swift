import XCTest
@testable import Privacy

final class TaxonomyTests: XCTestCase {
    func testBundledTaxonomiesMatchThePaperAndExtendIt() throws {
        let standard = Taxonomy.standard()
        XCTAssertEqual(standard.attributes.map(\.name), ["gender", "age", "ethnicity"])
        XCTAssertEqual(standard.attributes.map { $0.values.map(\.name) },
                       [["male", "female"], ["young", "middle-aged", "old"], ["caucasian", "african", "asian", "indian", "european"]])
        let extended = try Taxonomy.bundled("extended")
        XCTAssertEqual(extended.attributes.map(\.name), ["gender", "age", "ethnicity", "religion", "disability", "nationality", "place"])
        XCTAssertEqual(extended.genderedNouns, standard.genderedNouns)
        XCTAssertThrowsError(try Taxonomy.bundled("nope"))
    }

    func decode(_ json: String) throws -> Taxonomy { try Taxonomy.decode(Data(json.utf8), path: "test.json") }

    func assertInvalid(_ json: String, mentions fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try decode(json), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("test.json"), message, file: file, line: line)
            XCTAssertTrue(message.contains(fragment), "\(message) should mention \(fragment)", file: file, line: line)
        }
    }

    func testCustomTaxonomyFileExtendingTheDefault() throws {
        let taxonomy = try decode("""
        {"name": "mine", "extends": "default", "attributes": [
          {"name": "hair", "role": "descriptor", "adjacentOnly": true,
           "values": [{"name": "red", "forms": ["redhead"]}, {"name": "blond", "forms": ["blond", "blonde"]}]}]}
        """)
        let set = try Obfuscator(taxonomy: taxonomy).obfuscate("a blonde woman")
        XCTAssertEqual(set.candidates, ["a redhead man", "a blond man", "a redhead woman", "a blond woman"])
        XCTAssertEqual(set.realIndex, 3)
    }

    func testBadFilesFailWithTheOffendingKey() {
        assertInvalid("{", mentions: "cannot read taxonomy")
        assertInvalid(#"{"name": "x", "extends": "nope"}"#, mentions: "\"extends\": \"nope\"")
        assertInvalid(#"{"attributes": []}"#, mentions: "name")
        assertInvalid(#"{"name": "x", "attributes": [{"name": "a", "role": "descriptor", "values": [{"name": "v", "forms": ["q"]}]}]}"#,
                      mentions: "at least two values")
        assertInvalid(#"{"name": "x", "attributes": [{"name": "a", "role": "descriptor", "values": [{"name": "v", "forms": ["q"]}, {"name": "w", "forms": ["q"]}]}]}"#,
                      mentions: "\"q\"")
        assertInvalid(#"{"name": "x", "attributes": [{"name": "a", "role": "wrong", "values": []}]}"#, mentions: "role")
        assertInvalid(#"{"name": "x", "extends": "default", "genderedNouns": [{"male": ["sir", "sirs"]}]}"#, mentions: "genderedNouns[")
        assertInvalid(#"{"name": "x", "extends": "default", "attributes": [{"name": "age", "role": "descriptor", "values": [{"name": "a", "forms": ["p"]}, {"name": "b", "forms": ["r"]}]}]}"#,
                      mentions: "defined twice")
        assertInvalid(#"{"name": "x", "attributes": [{"name": "age", "role": "age", "values": [{"name": "a", "forms": ["p"]}, {"name": "b", "forms": ["r"]}]}]}"#,
                      mentions: "ageRange")
    }

    func testTaxonomyFileOnDisk() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-taxonomy-\(UUID().uuidString).json")
        XCTAssertThrowsError(try Taxonomy.load(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path))
        }
        try Data(#"{"name": "only-extended", "extends": "extended"}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try Taxonomy.load(contentsOf: url).attributes.count, 7)
    }
}
