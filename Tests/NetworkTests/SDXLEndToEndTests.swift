import Diffusion
import Foundation
import XCTest
import TensorCore
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// The SDXL family over real loopback HTTP on tiny random-weight models: SDXL server + KOALA
/// device, and LCM-SDXL server handing over to the device's own DPM-Solver++ schedule.
final class SDXLEndToEndTests: XCTestCase {
    static let models = Result { try TinySDXLModels(seed: 5) }

    private func generate(server unet: UNet2DConditionModel, settings: GenerationSettings, prompt: String, seed: UInt64)
        async throws -> HybridGenerator.Outcome {
        let tiny = try Self.models.get()
        let models = ServerModels(promptEncoder: tiny.promptEncoder, unet: unet, schedulerConfig: tiny.schedulerConfig)
        let server = try await LoopbackServer.start(backend: ModelBackend(models: models))
        do {
            let outcome = try await HybridGenerator(device: tiny.device, cloud: CloudClient(server: server.url))
                .generate(prompt: prompt, mode: .obclip, settings: settings, seed: seed)
            try await server.shutdown()
            return outcome
        } catch {
            try await server.shutdown()
            throw error
        }
    }

    /// SDXL server steps 0..<k on every candidate, KOALA-shaped device steps k..<T on the real
    /// one: equal to the in-process model switch on the real prompt (zeros as the negative).
    func testSDXLObclipMatchesInProcessSwitch() async throws {
        let tiny = try Self.models.get()
        let prompt = "a portrait photo of a young woman reading a book"
        let settings = GenerationSettings(steps: 5, switchStep: 2, scheduler: "dpm++2m", guidanceScale: 6, width: 64, height: 64)
        let outcome = try await generate(server: tiny.serverUNet, settings: settings, prompt: prompt, seed: 21)
        XCTAssertEqual(outcome.request?.modelFamily, "sdxl")
        XCTAssertGreaterThan(outcome.candidateSet.candidates.count, 1)

        let positive = try tiny.promptEncoder.encode([outcome.candidateSet.prompt])
        var costs: [PhaseCost] = []
        let expected = try Denoiser(unet: tiny.serverUNet, secondUNet: tiny.deviceUNet, schedulerConfig: tiny.schedulerConfig)
            .latents(positive: positive, negative: try tiny.promptEncoder.unconditional(negativePrompt: "", count: 1, like: positive),
                     settings: DenoisingSettings(steps: 5, scheduler: .dpmSolverPlusPlus2M, guidanceScale: 6, seed: 21, latentHeight: 8,
                                                 latentWidth: 8, switchStep: 2, microConditioning: .defaults(height: 64, width: 64)),
                     costs: &costs)
        let difference = zip(outcome.latent.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(difference, 1e-5 * (expected.scalars.map(abs).max() ?? 1))
        XCTAssertEqual(outcome.image.shape, [1, 64, 64, 3])
    }

    /// LCM-SDXL on the server for k of its 4 steps (w-embedding, no CFG), then the device's own
    /// 10-step DPM-Solver++ with CFG from the step `shift:Δt` picks: equal to the same hand-off in
    /// process, and resumable — the device needs nothing but the response.
    func testLCMHandOffMatchesInProcess() async throws {
        let tiny = try Self.models.get()
        let prompt = "a portrait photo of an old man in a park"
        let device = DeviceSampler(scheduler: "dpm++2m", steps: 10, guidanceScale: 5, firstStep: .shift(3))
        let settings = GenerationSettings(steps: 4, switchStep: 2, scheduler: "lcm", guidanceScale: 2, width: 64, height: 64,
                                          deviceSampler: device)
        let outcome = try await generate(server: tiny.lcmUNet, settings: settings, prompt: prompt, seed: 8)
        XCTAssertEqual(outcome.report.device.modelCalls, 10 - (2 + 3))

        let micro = MicroConditioning.defaults(height: 64, width: 64)
        let text = try tiny.promptEncoder.encode([outcome.candidateSet.prompt])
        var lcm = try SchedulerKind.lcm.makeScheduler(config: tiny.schedulerConfig, steps: 4)
        var generator = TorchGenerator(seed: 8)
        var x = lcm.initialLatents(shape: [1, 4, 8, 8], generator: &generator)
        let serverContext = text.prepared(for: tiny.lcmUNet.configuration, micro: micro, guidanceScale: 2)
        for i in 0..<2 {
            x = lcm.step(modelOutput: try tiny.lcmUNet(x, timesteps: [lcm.timesteps[i]], conditioning: serverContext), sample: x, generator: &generator)
        }
        var dpm = try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(config: tiny.schedulerConfig, steps: 10)
        try dpm.begin(at: 5)
        let zeros = try tiny.promptEncoder.unconditional(negativePrompt: "", count: 1, like: text)
        let deviceContext = TextConditioning.concatenated([zeros, text]).prepared(for: tiny.deviceUNet.configuration, micro: micro, guidanceScale: 5)
        for i in 5..<10 {
            let eps = try guidedNoise(x, scale: 5) { try tiny.deviceUNet($0, timesteps: [dpm.timesteps[i]], conditioning: deviceContext) }
            x = dpm.step(modelOutput: eps, sample: x, generator: &generator)
        }
        let difference = zip(outcome.latent.scalars, x.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(difference, 1e-5 * (x.scalars.map(abs).max() ?? 1))
    }

    /// A request for the other family is refused with the field named, before any model work.
    func testFamilyMismatchIsRejected() async throws {
        let tiny = try Self.models.get()
        let backend = ModelBackend(models: ServerModels(promptEncoder: tiny.promptEncoder, unet: tiny.serverUNet, schedulerConfig: tiny.schedulerConfig))
        let sd1 = GenerationRequest(candidates: ["a cat"], seed: 1, steps: 4, switchStep: 2, width: 64, height: 64)
        do {
            _ = try await backend.generate([sd1], observer: .none)
            XCTFail("an SD1.x request must not run on an SDXL server")
        } catch let error as RequestError {
            XCTAssertEqual(error.field, "modelFamily")
        }
        var badCrop = sd1
        badCrop.modelFamily = "sdxl"
        badCrop.cropTopLeft = [1]
        do {
            _ = try await backend.generate([badCrop], observer: .none)
            XCTFail("a malformed crop must be refused")
        } catch let error as RequestError {
            XCTAssertEqual(error.field, "cropTopLeft")
        }
    }
}
