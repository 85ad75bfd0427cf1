import Diffusion
import Foundation
import XCTest
import Privacy
import TensorCore
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// The server's accelerations through the backend and over loopback HTTP, on tiny models.
final class AcceleratedGenerationTests: XCTestCase {
    func backend() throws -> (ModelBackend, TinyModels) {
        let tiny = try EndToEndTests.models.get()
        return (ModelBackend(models: try EndToEndTests.serverModels()), tiny)
    }

    func request(_ acceleration: AccelerationOptions, candidates: [String]) -> GenerationRequest {
        GenerationRequest(candidates: candidates, seed: 99, steps: 8, switchStep: 5, scheduler: "dpm++2m", guidanceScale: 7.5,
                          width: 64, height: 64, acceleration: acceleration)
    }

    func testAcceleratedBatchKeepsThePivotAndSavesWork() async throws {
        let (backend, _) = try backend()
        let candidates = try Obfuscator().obfuscate("a photo of an old woman reading").candidates
        let plain = try await backend.generate([request(.off, candidates: candidates)], observer: .none)[0]
        let reuseOnly = AccelerationOptions(reuse: true, cache: false, skip: false, cachePoint: 3, skipPoint: 3)
        let reused = try await backend.generate([request(reuseOnly, candidates: candidates)], observer: .none)[0]
        let all = try await backend.generate([request(.method(switchStep: 5), candidates: candidates)], observer: .none)[0]

        // Batch reuse never changes the pivot's own trajectory; the others change.
        let pivot = { (r: GenerationResponse) in r.latents.row(0).scalars }
        XCTAssertLessThanOrEqual(zip(pivot(reused), pivot(plain)).map { abs($0 - $1) }.max()!, 1e-6)
        XCTAssertNotEqual(reused.latents.row(1).scalars, plain.latents.row(1).scalars)
        XCTAssertEqual(plain.accounting.sharedAttentionMaps, 0)
        XCTAssertGreaterThan(reused.accounting.sharedAttentionMaps, 0)
        XCTAssertLessThan(reused.accounting.executedMultiplyAdds, plain.accounting.executedMultiplyAdds)
        XCTAssertLessThan(all.accounting.executedMultiplyAdds, reused.accounting.executedMultiplyAdds)
        XCTAssertTrue(all.latents.scalars.allSatisfy(\.isFinite))
    }

    func testAccelerationsOffEqualThePlainBatchedRunBitForBit() async throws {
        let (backend, tiny) = try backend()
        let candidates = ["a photo of a man", "a photo of a woman"]
        let response = try await backend.generate([request(.off, candidates: candidates)], observer: .none)[0]
        // The same trajectory by hand: one batched, guided UNet call per step.
        let encode = { (texts: [String]) in try tiny.textEncoder.lastHiddenState(tokenIDs: texts.map { tiny.tokenizer.encode($0) }) }
        let context = concatBatch([try encode([""]), try encode([""]), try encode(candidates)])
        var schedulers = try (0..<2).map { _ in try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(config: tiny.schedulerConfig, steps: 8) }
        var generator = TorchGenerator(seed: 99)
        let noise = scale(generator.randn([1, 4, 8, 8]), schedulers[0].initNoiseSigma)
        var latents = concatBatch([noise, noise])
        for index in 0..<5 {
            let input = schedulers[0].scaleModelInput(latents, index: index)
            let prediction = try guidedNoise(input, scale: 7.5) {
                try tiny.serverUNet($0, timesteps: [schedulers[0].timesteps[index]], encoderHiddenStates: context)
            }
            latents = concatBatch((0..<2).map { row in
                schedulers[row].step(modelOutput: prediction.slice(row, 1), sample: latents.slice(row, 1), generator: &generator)
            })
        }
        XCTAssertEqual(response.latents.scalars, latents.scalars)
    }

    func testAcceleratedGenerationOverHTTP() async throws {
        let (backend, tiny) = try backend()
        let server = try await LoopbackServer.start(backend: backend)
        let settings = GenerationSettings(steps: 8, switchStep: 5, scheduler: "dpm++2m", width: 64, height: 64,
                                          acceleration: .method(switchStep: 5))
        let outcome = try await HybridGenerator(device: tiny.device, cloud: CloudClient(server: server.url))
            .generate(prompt: "a portrait of a young man", mode: .obclip, settings: settings, seed: 3)
        try await server.shutdown()
        XCTAssertEqual(outcome.request?.acceleration, .method(switchStep: 5))
        XCTAssertGreaterThan(outcome.report.server?.sharedAttentionMaps ?? 0, 0)
        XCTAssertEqual(outcome.image.shape, [1, 64, 64, 3])
        XCTAssertTrue(outcome.image.scalars.allSatisfy(\.isFinite))
    }
}
