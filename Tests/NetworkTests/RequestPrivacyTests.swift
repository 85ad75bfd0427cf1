import Foundation
import XCTest
import Privacy
import WireProtocol
@testable import DeviceClient

/// The bytes a device sends must not depend on which candidate is real.
final class RequestPrivacyTests: XCTestCase {
    let settings = GenerationSettings(steps: 6, switchStep: 2, scheduler: "ddim", width: 64, height: 64)

    func testRequestBytesAreTheSameWhicheverCandidateIsReal() throws {
        let obfuscator = Obfuscator()
        let reference = try obfuscator.obfuscate("a photo of an old woman reading a book")
        XCTAssertGreaterThan(reference.candidates.count, 1)
        let referenceBytes = try XCTUnwrap(GenerationMode.obclip.cloudRequest(for: reference, seed: 99, settings: settings)).encodedJSON()
        var realIndices = Set<Int>()
        // Every candidate, taken as the user's real prompt, yields the identical request body.
        for candidate in reference.candidates {
            let set = try obfuscator.obfuscate(candidate)
            realIndices.insert(set.realIndex)
            let bytes = try XCTUnwrap(GenerationMode.obclip.cloudRequest(for: set, seed: 99, settings: settings)).encodedJSON()
            XCTAssertEqual(bytes, referenceBytes, "request for real prompt '\(candidate)' differs")
        }
        XCTAssertEqual(realIndices.count, reference.candidates.count, "each candidate was the real one once")

        // And the body has exactly the protocol's fields: nothing that could carry an index.
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: referenceBytes) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["version", "candidates", "seed", "steps", "switchStep", "scheduler", "guidanceScale",
                                          "negativePrompt", "width", "height", "acceleration"])
        XCTAssertEqual(object["candidates"] as? [String], reference.candidates)
    }

    func testModesSendWhatTheyShould() throws {
        let set = try Obfuscator().obfuscate("a portrait of a young man")
        XCTAssertEqual(GenerationMode.obclip.cloudRequest(for: set, seed: 1, settings: settings)?.switchStep, 2)
        XCTAssertEqual(GenerationMode.vanillaOblivious.cloudRequest(for: set, seed: 1, settings: settings)?.switchStep, 6)
        XCTAssertEqual(GenerationMode.hybrid.cloudRequest(for: set, seed: 1, settings: settings)?.candidates, [set.prompt])
        XCTAssertEqual(GenerationMode.serverOnly.cloudRequest(for: set, seed: 1, settings: settings)?.switchStep, 6)
        XCTAssertNil(GenerationMode.deviceOnly.cloudRequest(for: set, seed: 1, settings: settings))
        XCTAssertEqual(GenerationMode.obclip.keptRow(of: set), set.realIndex)
        XCTAssertEqual(GenerationMode.hybrid.keptRow(of: set), 0)
        // The device conditions on the text the server ran for its row.
        let normalised = try Obfuscator().obfuscate("an elderly asian woman")
        XCTAssertEqual(GenerationMode.obclip.devicePrompt(of: normalised), "an old Asian woman")
        XCTAssertEqual(GenerationMode.hybrid.devicePrompt(of: normalised), "an elderly asian woman")
    }

    /// The same holds for prompts whose names are swapped and whose words are normalised: the
    /// request (hence its size) is a function of the template alone.
    func testRequestBytesIgnoreNamesAndNormalisedWords() throws {
        let obfuscator = Obfuscator()
        for prompt in ["Keiko and her mother at the beach", "an elderly asian woman named Margaret, smiling"] {
            let reference = try obfuscator.obfuscate(prompt)
            let bytes = try XCTUnwrap(GenerationMode.obclip.cloudRequest(for: reference, seed: 5, settings: settings)).encodedJSON()
            for candidate in reference.candidates {
                let set = try obfuscator.obfuscate(candidate)
                XCTAssertEqual(try XCTUnwrap(GenerationMode.obclip.cloudRequest(for: set, seed: 5, settings: settings)).encodedJSON(), bytes, candidate)
            }
        }
    }

    func testSeedsComeFromTheCSPRNG() {
        let seeds = Set((0..<64).map { _ in GenerationSettings.freshSeed() })
        XCTAssertEqual(seeds.count, 64)
        XCTAssertTrue(seeds.allSatisfy { $0 < (1 << 63) })
    }
}
