import Diffusion
import Foundation
import XCTest
import Privacy
import TensorCore
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// Private generation over real loopback HTTP on tiny random-weight models.
final class EndToEndTests: XCTestCase {
    static let models = Result { try TinyModels(seed: 3) }

    static func serverModels() throws -> ServerModels {
        let tiny = try models.get()
        return ServerModels(tokenizer: tiny.tokenizer, textEncoder: tiny.textEncoder, unet: tiny.serverUNet, schedulerConfig: tiny.schedulerConfig)
    }

    /// The network run's result for the real candidate equals an in-process model-switch run on
    /// that candidate alone (same seed, same split): batching, the wire codec and extraction
    /// change nothing.
    func checkMatchesInProcessSwitch(scheduler: String, prompt: String) async throws {
        let tiny = try Self.models.get()
        let backend = ModelBackend(models: try Self.serverModels())
        let server = try await LoopbackServer.start(backend: backend)
        let settings = GenerationSettings(steps: 5, switchStep: 2, scheduler: scheduler, guidanceScale: 7.5,
                                          negativePrompt: "blurry", width: 64, height: 64)
        let generator = HybridGenerator(device: tiny.device, cloud: CloudClient(server: server.url))
        let outcome = try await generator.generate(prompt: prompt, mode: .obclip, settings: settings, seed: 1234)
        try await server.shutdown()
        let set = outcome.candidateSet
        XCTAssertGreaterThan(set.candidates.count, 1)
        XCTAssertEqual(outcome.request?.candidates, set.candidates)

        // Reference: Engine II in process — the pipeline's denoiser with the model switch at k,
        // on the real candidate's rendering alone (here identical to the prompt).
        XCTAssertEqual(set.realCandidate, set.prompt)
        let encode = { (text: String) in TextConditioning(hiddenStates: try tiny.textEncoder.lastHiddenState(tokenIDs: [tiny.tokenizer.encode(text)])) }
        var costs: [PhaseCost] = []
        let expected = try Denoiser(unet: tiny.serverUNet, secondUNet: tiny.deviceUNet, schedulerConfig: tiny.schedulerConfig)
            .latents(positive: try encode(set.realCandidate), negative: try encode(settings.negativePrompt),
                     settings: DenoisingSettings(steps: settings.steps, scheduler: try SchedulerKind(name: scheduler),
                                                 guidanceScale: settings.guidanceScale, seed: 1234, latentHeight: 8, latentWidth: 8,
                                                 switchStep: settings.switchStep),
                     costs: &costs)
        let difference = zip(outcome.latent.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertEqual(outcome.latent.shape, [1, 4, 8, 8])
        XCTAssertLessThanOrEqual(difference, 1e-5, "\(scheduler): network result differs from the in-process switch by \(difference)")
        XCTAssertGreaterThan(outcome.latent.scalars.map(abs).max() ?? 0, 0)

        let report = outcome.report
        XCTAssertEqual(report.candidatesSent, set.candidates.count)
        XCTAssertEqual(report.device.modelCalls, 3)
        XCTAssertGreaterThan(report.server?.executedMultiplyAdds ?? 0, 0)
        XCTAssertGreaterThan(report.device.executedMultiplyAdds, 0)
        XCTAssertEqual(report.wire?.requestBytes, try outcome.request?.encodedJSON().count)
        XCTAssertEqual(outcome.image.shape, [1, 64, 64, 3])
    }

    func testMultistepSolverHandOffMatchesInProcessSwitch() async throws {
        try await checkMatchesInProcessSwitch(scheduler: "dpm++2m", prompt: "a photo of an old woman reading a book")
    }

    func testStochasticSchedulerHandOffMatchesInProcessSwitch() async throws {
        try await checkMatchesInProcessSwitch(scheduler: "euler-a", prompt: "a portrait of a young man")
    }

    func testAllModesProduceComparableReports() async throws {
        let tiny = try Self.models.get()
        let server = try await LoopbackServer.start(backend: ModelBackend(models: try Self.serverModels()))
        let settings = GenerationSettings(steps: 3, switchStep: 1, scheduler: "ddim", width: 64, height: 64)
        let generator = HybridGenerator(device: tiny.device, cloud: CloudClient(server: server.url))
        var reports: [GenerationMode: GenerationReport] = [:]
        for mode in GenerationMode.allCases {
            reports[mode] = try await generator.generate(prompt: "a photo of a man", mode: mode, settings: settings, seed: 5).report
        }
        try await server.shutdown()
        let n = try Obfuscator().obfuscate("a photo of a man").candidates.count
        XCTAssertEqual(reports[.obclip]?.candidatesSent, n)
        XCTAssertEqual(reports[.obclip]?.device.modelCalls, 2)
        XCTAssertEqual(reports[.hybrid]?.candidatesSent, 1)
        XCTAssertEqual(reports[.vanillaOblivious]?.serverModelCalls, 3)
        XCTAssertEqual(reports[.vanillaOblivious]?.device.modelCalls, 0)
        XCTAssertEqual(reports[.serverOnly]?.candidatesSent, 1)
        XCTAssertEqual(reports[.deviceOnly]?.candidatesSent, 0)
        XCTAssertEqual(reports[.deviceOnly]?.device.modelCalls, 3)
        XCTAssertNil(reports[.deviceOnly]?.server)
        XCTAssertNil(reports[.hybrid]?.privacy)
        XCTAssertNotNil(reports[.obclip]?.privacy)
        // Vanilla oblivious runs every step of every candidate on the server: the most server work.
        XCTAssertGreaterThan(reports[.vanillaOblivious]!.server!.executedMultiplyAdds, reports[.obclip]!.server!.executedMultiplyAdds)
        XCTAssertGreaterThan(reports[.obclip]!.server!.executedMultiplyAdds, reports[.hybrid]!.server!.executedMultiplyAdds)
    }
}
