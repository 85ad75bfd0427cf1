import Diffusion
import Foundation
import XCTest

/// Parity with transformers' `CLIPTokenizer` (fixtures from tools/fixtures_clip.py).
final class TokenizerTests: XCTestCase {
    struct Reference: Decodable {
        let prompts: [String]
        let ids: [[Int]]
        let vocabulary_sample: [String: Int]
    }

    static let reference: Reference = try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("clip/tokenizer_ids.json")))

    private func assertMatchesReference(_ tokenizer: CLIPTokenizer, file: StaticString = #filePath, line: UInt = #line) {
        let reference = Self.reference
        XCTAssertGreaterThanOrEqual(reference.prompts.count, 60)
        var mismatches = 0
        for (prompt, expected) in zip(reference.prompts, reference.ids) {
            let got = tokenizer.encode(prompt)
            if got != expected {
                mismatches += 1
                XCTFail("prompt \(prompt.debugDescription):\n got \(got)\nwant \(expected)", file: file, line: line)
            }
        }
        XCTAssertEqual(mismatches, 0, file: file, line: line)
    }

    func testBundledVocabularyMatchesTransformers() throws {
        let tokenizer = try CLIPTokenizer.bundled()
        XCTAssertEqual(tokenizer.vocabulary.count, 49408)
        XCTAssertEqual(tokenizer.startOfTextID, 49406)
        XCTAssertEqual(tokenizer.endOfTextID, 49407)
        XCTAssertEqual(tokenizer.paddingID, 49407)
        for (token, id) in Self.reference.vocabulary_sample {
            XCTAssertEqual(tokenizer.vocabulary[token], id, "token \(token.debugDescription)")
        }
    }

    func testBundledTokenizerIDsMatchTransformers() throws {
        assertMatchesReference(try CLIPTokenizer.bundled())
    }

    func testPaddingTruncationAndSpecialTokens() throws {
        let tokenizer = try CLIPTokenizer.bundled()
        XCTAssertEqual(tokenizer.encode(""), [49406] + Array(repeating: 49407, count: 76))
        let long = tokenizer.encode(String(repeating: "cat ", count: 200))
        XCTAssertEqual(long.count, 77)
        XCTAssertEqual(long.first, 49406)
        XCTAssertEqual(long.last, 49407, "truncation keeps the end-of-text token")
        XCTAssertEqual(tokenizer.tokens(String(repeating: "cat ", count: 200)).count, 200)
        XCTAssertEqual(tokenizer.encode("a photo of a cat", length: 8), [49406, 320, 1125, 539, 320, 2368, 49407, 49407])
    }

    /// The bounded count is exact up to its limit on every reference prompt and past it on
    /// long ones, and refuses a 256 KiB one-word text without encoding it (BPE is quadratic in
    /// a word's length: encoding a 16 KiB word took 14 CPU-seconds in the fuzz build).
    func testTokenCountIsExactUpToItsLimitAndCheapPastIt() throws {
        let tokenizer = try CLIPTokenizer.bundled()
        XCTAssertGreaterThan(tokenizer.longestTokenBytes, 10)
        XCTAssertLessThan(tokenizer.longestTokenBytes, 40)
        for prompt in Self.reference.prompts + [String(repeating: "cat ", count: 100), "<|endoftext|> a <|startoftext|> b"] {
            let exact = tokenizer.tokens(prompt).count
            for limit in [0, 5, 75, 1000] {
                let counted = tokenizer.tokenCount(prompt, stoppingAbove: limit)
                if exact <= limit { XCTAssertEqual(counted, exact, prompt) } else { XCTAssertGreaterThan(counted, limit, prompt) }
                XCTAssertLessThanOrEqual(counted, exact, "a count past the limit is a lower bound")
            }
        }
        var generator = SystemRandomNumberGenerator()
        let word = String((0..<(256 << 10)).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement(using: &generator)! })
        let started = ContinuousClock.now
        XCTAssertGreaterThan(tokenizer.tokenCount(word, stoppingAbove: 75), 75)
        XCTAssertGreaterThan(tokenizer.tokenCount("a photo of " + word, stoppingAbove: 75), 75)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "the long word was encoded")
    }

    /// A transformers tokenizer directory (vocab.json + merges.txt + config) gives the same ids.
    func testTokenizerDirectoryMatchesTransformers() throws {
        let tokenizer = try CLIPTokenizer(directory: Self.tokenizerDirectory)
        XCTAssertEqual(tokenizer.vocabulary.count, 49408)
        XCTAssertEqual(tokenizer.paddingID, 49407)
        assertMatchesReference(tokenizer)
    }

    func testPadTokenFromConfig() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: Self.tokenizerDirectory.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        try #"{"pad_token": {"content": "!", "normalized": false}}"#
            .write(to: directory.appendingPathComponent("special_tokens_map.json"), atomically: true, encoding: .utf8)
        let tokenizer = try CLIPTokenizer(directory: directory)
        XCTAssertEqual(tokenizer.paddingID, 0)
        XCTAssertEqual(tokenizer.encode("cat", length: 5), [49406, 2368, 49407, 0, 0])
        try #"{"pad_token": "<|nonexistent|>"}"#
            .write(to: directory.appendingPathComponent("special_tokens_map.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CLIPTokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("<|nonexistent|>"), "\(error)")
        }
    }

    func testMalformedTokenizerFilesAreReported() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let vocab = directory.appendingPathComponent("vocab.json"), merges = directory.appendingPathComponent("merges.txt")
        try #"{"<|startoftext|>": 0, "<|endoftext|>": 1, "i": 2, "n": 3, "in": 4}"#.write(to: vocab, atomically: true, encoding: .utf8)
        try "#version: 0.2\ni n\nthree part line\n".write(to: merges, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CLIPTokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("merges.txt") && "\(error)".contains("line 3"), "\(error)")
        }
        try "#version: 0.2\ni n\n".write(to: merges, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CLIPTokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains(directory.path) && "\(error)".contains("vocabulary lacks token"), "\(error)")
        }
        try FileManager.default.removeItem(at: merges)
        XCTAssertThrowsError(try CLIPTokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("merges.txt"), "\(error)")
        }
        try #"{"a": "not an id"}"#.write(to: vocab, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CLIPTokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("vocab.json") && "\(error)".contains("'a'"), "\(error)")
        }
    }

    private static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clip-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// vocab.json and merges.txt in transformers' format, written once per test run: the
    /// vocabulary of the bundled tokenizer (checked against transformers' ids above) and the
    /// first 48 894 merges of CLIP's BPE file.
    static let tokenizerDirectory: URL = {
        let directory = try! temporaryDirectory()
        let vocabulary = try! CLIPTokenizer.bundled().vocabulary
        try! JSONSerialization.data(withJSONObject: vocabulary).write(to: directory.appendingPathComponent("vocab.json"))
        let bpe = try! String(contentsOf: BundledResources.clipBPEVocabulary, encoding: .utf8)
        let merges = bpe.split(separator: "\n", maxSplits: 49152 - 256 - 1).dropFirst().prefix(49152 - 256 - 2)
        try! ("#version: 0.2\n" + merges.joined(separator: "\n") + "\n")
            .write(to: directory.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
        return directory
    }()

    override class func tearDown() {
        try? FileManager.default.removeItem(at: tokenizerDirectory)
        super.tearDown()
    }
}
