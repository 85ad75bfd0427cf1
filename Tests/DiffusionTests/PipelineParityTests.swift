import Foundation
import SafeTensors
import TensorCore
import XCTest
@testable import Diffusion

/// Final latents of diffusers' `StableDiffusionPipeline` (fixed seed, precomputed prompt
/// embeddings) on the small random-weight UNets: a classifier-free-guidance run with
/// DPM-Solver++ 2M and a Hybrid-SD run that switches UNets after step 2 with Euler ancestral.
final class PipelineParityTests: XCTestCase {
    private func unet(_ name: String) throws -> UNet2DConditionModel {
        let directory = Fixtures.url("unet/\(name)")
        return try UNet2DConditionModel(configuration: UNetConfiguration.load(from: directory.appendingPathComponent("config.json")),
                                        weights: WeightStore(directory: directory))
    }

    private func run(_ name: String, denoiser: Denoiser, settings: DenoisingSettings,
                     progress: GenerationProgressHandler = { _ in true }) throws -> (Tensor, [PhaseCost]) {
        let reference = try SafeTensorsReader(contentsOf: Fixtures.url("pipeline/reference.safetensors"))
        func tensor(_ key: String) throws -> Tensor { Tensor(shape: try reference.entry(key).shape, scalars: try reference.floats(key)) }
        var costs: [PhaseCost] = []
        let latents = try denoiser.latents(positive: TextConditioning(hiddenStates: try tensor("positive")),
                                           negative: TextConditioning(hiddenStates: try tensor("negative")),
                                           settings: settings, costs: &costs, progress: progress)
        XCTAssertEqual(latents.shape, try reference.entry("\(name).latents").shape)
        assertClose(latents.scalars, try reference.floats("\(name).latents"), relativeTo: 1e-4, name)
        return (latents, costs)
    }

    private var schedulerConfig: SchedulerConfig {
        get throws { try SchedulerConfig(contentsOf: Fixtures.url("pipeline/scheduler_config.json")) }
    }

    func testGuidedLatentsMatchDiffusers() throws {
        let denoiser = Denoiser(unet: try unet("sd_like"), schedulerConfig: try schedulerConfig)
        var events: [GenerationProgress] = []
        let (_, costs) = try run("cfg", denoiser: denoiser,
                                 settings: DenoisingSettings(steps: 5, scheduler: .dpmSolverPlusPlus2M, guidanceScale: 7.5, seed: 42,
                                                             latentHeight: 8, latentWidth: 8),
                                 progress: { events.append($0); return true })
        XCTAssertEqual(events.map(\.completed), [1, 2, 3, 4, 5])
        XCTAssertEqual(costs.map(\.phase), [.unet(model: 0)])
        XCTAssertGreaterThan(costs[0].flops, 0)
    }

    func testModelSwitchLatentsMatchDiffusers() throws {
        let denoiser = Denoiser(unet: try unet("sd_like"), secondUNet: try unet("bk_small_like"), schedulerConfig: try schedulerConfig)
        let (_, costs) = try run("switch", denoiser: denoiser,
                                 settings: DenoisingSettings(steps: 4, scheduler: .eulerAncestral, guidanceScale: 5, seed: 7,
                                                             latentHeight: 8, latentWidth: 8, switchStep: 2))
        XCTAssertEqual(costs.map(\.phase), [.unet(model: 0), .unet(model: 1)])
        // The switch matters: the first UNet alone ends elsewhere.
        var unswitched = DenoisingSettings(steps: 4, scheduler: .eulerAncestral, guidanceScale: 5, seed: 7, latentHeight: 8, latentWidth: 8)
        unswitched.switchStep = nil
        let reference = try SafeTensorsReader(contentsOf: Fixtures.url("pipeline/reference.safetensors"))
        var ignored: [PhaseCost] = []
        let alone = try Denoiser(unet: try unet("sd_like"), schedulerConfig: try schedulerConfig)
            .latents(positive: TextConditioning(hiddenStates: Tensor(shape: [2, 7, 8], scalars: try reference.floats("positive"))),
                     negative: TextConditioning(hiddenStates: Tensor(shape: [2, 7, 8], scalars: try reference.floats("negative"))),
                     settings: unswitched, costs: &ignored)
        XCTAssertNotEqual(alone.scalars, try reference.floats("switch.latents"))
    }

    func testProgressHandlerCancels() throws {
        let denoiser = Denoiser(unet: try unet("bk_small_like"), schedulerConfig: try schedulerConfig)
        var costs: [PhaseCost] = []
        var calls = 0
        XCTAssertThrowsError(try denoiser.latents(positive: TextConditioning(hiddenStates: Tensor(zeros: [1, 7, 8])), negative: TextConditioning(hiddenStates: Tensor(zeros: [1, 7, 8])),
                                                  settings: DenoisingSettings(steps: 10, seed: 1, latentHeight: 8, latentWidth: 8),
                                                  costs: &costs, progress: { _ in calls += 1; return calls < 2 })) {
            XCTAssertTrue($0 is GenerationCancelled, "\($0)")
        }
        XCTAssertEqual(calls, 2)
    }

    func testGuidanceWithoutNegativeEmbeddingsThrows() throws {
        let denoiser = Denoiser(unet: try unet("bk_small_like"), schedulerConfig: try schedulerConfig)
        var costs: [PhaseCost] = []
        XCTAssertThrowsError(try denoiser.latents(positive: TextConditioning(hiddenStates: Tensor(zeros: [1, 7, 8])), negative: nil,
                                                  settings: DenoisingSettings(steps: 2, latentHeight: 8, latentWidth: 8), costs: &costs))
    }
}
