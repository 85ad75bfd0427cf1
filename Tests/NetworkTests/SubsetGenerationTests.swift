import Diffusion
import Foundation
import XCTest
import Privacy
import TensorCore
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// The DP subset mode through the client: the server gets M of the N candidates; when the real
/// one is among them the device continues its latent, else it drops the answer and generates
/// alone — and either way the request looks the same to the server.
final class SubsetGenerationTests: XCTestCase {
    func testSubsetRequestsContinueTheRealCandidateOrFallBackToTheDevice() async throws {
        let tiny = try EndToEndTests.models.get()
        let server = try await LoopbackServer.start(backend: ModelBackend(models: try EndToEndTests.serverModels()))
        let generator = HybridGenerator(device: tiny.device, cloud: CloudClient(server: server.url))
        let settings = GenerationSettings(steps: 4, switchStep: 2, scheduler: "dpm++2m", guidanceScale: 7.5, width: 64, height: 64)
        let prompt = "a portrait of an old woman"
        let mechanism = try SubsetMechanism(epsilon: 1, subsetSize: 2)
        let set = try Obfuscator().obfuscate(prompt)
        XCTAssertEqual(set.candidates.count, 6)

        // Memoised draws are a function of the secret: find one that sends the real candidate and one that does not.
        func secret(_ n: Int) -> [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: n &* 31 &+ $0) } }
        let draws = try (0..<64).map { n in (n, try mechanism.select(from: set, randomness: .memoized(secret: secret(n)))) }
        let sent = try XCTUnwrap(draws.first { $0.1.realIndex != nil })
        let withheld = try XCTUnwrap(draws.first { $0.1.realIndex == nil })

        let plain = try await generator.generate(prompt: prompt, mode: .obclip, settings: settings, seed: 99)
        let alone = try await generator.generate(prompt: prompt, mode: .deviceOnly, settings: settings, seed: 99)

        let withReal = try await generator.generate(prompt: prompt, mode: .obclip, settings: settings, seed: 99, subset: mechanism,
                                                    subsetRandomness: .memoized(secret: secret(sent.0)))
        XCTAssertEqual(withReal.request?.candidates, sent.1.candidates)
        XCTAssertEqual(withReal.report.candidatesSent, 2)
        XCTAssertEqual(withReal.report.dpSubset, sent.1)
        let difference = zip(withReal.latent.scalars, plain.latent.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(difference, 1e-5, "continuing the real candidate from a subset matches the full set's run")
        XCTAssertEqual(withReal.report.device.modelCalls, 2)

        let withoutReal = try await generator.generate(prompt: prompt, mode: .obclip, settings: settings, seed: 99, subset: mechanism,
                                                       subsetRandomness: .memoized(secret: secret(withheld.0)))
        XCTAssertEqual(withoutReal.request?.candidates, withheld.1.candidates)
        XCTAssertFalse(withheld.1.candidates.contains(set.realCandidate))
        XCTAssertNotNil(withoutReal.report.wire, "the request went out and was answered, as for any other draw")
        XCTAssertEqual(withoutReal.latent.scalars, alone.latent.scalars, "the real candidate not drawn: the device generated alone")
        XCTAssertEqual(withoutReal.report.device.modelCalls, 4)

        do {
            _ = try await generator.generate(prompt: prompt, mode: .hybrid, settings: settings, seed: 99, subset: mechanism)
            XCTFail("the subset mode needs a private mode")
        } catch let error as GenerationError {
            XCTAssertTrue(error.description.contains("sends none"), error.description)
        }
        try await server.shutdown()
    }
}
