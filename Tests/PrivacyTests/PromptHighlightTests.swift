import Privacy
import XCTest

/// `Obfuscator.highlights(of:)`: the words the candidate set varies, where they are in the
/// prompt, for the UI to mark as the person types.
final class PromptHighlightTests: XCTestCase {
    func testHighlightsCoverEverySlotWordAtItsPlace() throws {
        let obfuscator = Obfuscator()
        let prompt = "A photo of an old Indian woman reading to her son, 🌳 in the park"
        let highlights = obfuscator.highlights(of: prompt)
        let set = try obfuscator.obfuscate(prompt)
        let utf16 = Array(prompt.utf16)
        for highlight in highlights {
            XCTAssertEqual(String(decoding: utf16[highlight.start..<highlight.end], as: UTF16.self), highlight.text, "offsets are UTF-16 and exact")
            if let slot = highlight.slot { XCTAssertTrue(set.report.slots.indices.contains(slot)) }
        }
        XCTAssertEqual(highlights.map(\.text), ["an", "old", "Indian", "woman", "her", "son"])
        XCTAssertNil(highlights[0].slot, "the article is recomputed, not a slot")
        let attributes = highlights.compactMap { $0.slot.map { set.report.slots[$0].attribute } }
        XCTAssertEqual(attributes, ["age", "ethnicity", "gender", "gender", "gender"])
        XCTAssertEqual(Set(highlights.compactMap(\.slot).map { set.report.slots[$0].person }), [1, 2], "the woman and her son")
    }

    func testAPromptWithoutSensitiveWordsHasNoHighlights() {
        XCTAssertEqual(Obfuscator().highlights(of: "a red bicycle against a blue wall"), [])
    }
}
