import Foundation
import TensorCore
import XCTest
@testable import Diffusion

/// The whole text-to-image path (tokenizer → text encoder → denoising → VAE) on tiny models.
/// Its numerics are covered piecewise by the parity tests; this checks the wiring: that the
/// pipeline feeds the encoded prompt and negative prompt to the denoiser, decodes its latents,
/// and reports every phase.
final class PipelineEndToEndTests: XCTestCase {
    private func pipeline() throws -> StableDiffusionPipeline {
        let unetDirectory = Fixtures.url("unet/sd_like"), vaeDirectory = Fixtures.url("vae/sd_like")
        let unet = try UNet2DConditionModel(configuration: UNetConfiguration.load(from: unetDirectory.appendingPathComponent("config.json")),
                                            weights: WeightStore(directory: unetDirectory))
        let vae = try AutoencoderKL(configuration: AutoencoderKLConfiguration.load(from: vaeDirectory.appendingPathComponent("config.json")),
                                    weights: WeightStore(directory: vaeDirectory))
        return StableDiffusionPipeline(tokenizer: try CLIPTokenizer.bundled(),
                                       textEncoder: try CLIPTextModel(directory: Fixtures.url("clip/text_encoder")),
                                       denoiser: Denoiser(unet: unet, schedulerConfig: try SchedulerConfig(contentsOf: Fixtures.url("pipeline/scheduler_config.json"))),
                                       vae: vae)
    }

    func testGenerateWiresTextDenoisingAndDecoding() throws {
        let p = try pipeline()
        let settings = DenoisingSettings(steps: 3, scheduler: .euler, guidanceScale: 6, seed: 5)
        var phases: [GenerationPhase] = []
        let out = try p.generate(prompts: ["a red bicycle", "a portrait of a nurse"], negativePrompt: "blurry", width: 16, height: 16,
                                 settings: settings) { phases.append($0.phase); return true }
        XCTAssertEqual(out.latents.shape, [2, 4, 8, 8])
        XCTAssertEqual(out.images.shape, [2, 16, 16, 3])
        XCTAssertTrue(out.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(out.costs.map(\.phase), [.textEncoder, .unet(model: 0), .vae])
        XCTAssertEqual(phases, [.textEncoder, .unet(model: 0), .unet(model: 0), .unet(model: 0), .vae])

        // The same latents from the denoiser fed with the encoder's outputs directly.
        let tokenizer = p.tokenizer
        let positive = try p.textEncoder.lastHiddenState(tokenIDs: ["a red bicycle", "a portrait of a nurse"].map { tokenizer.encode($0) })
        let negative = try p.textEncoder.lastHiddenState(tokenIDs: [tokenizer.encode("blurry"), tokenizer.encode("blurry")])
        var s = settings
        s.latentHeight = 8
        s.latentWidth = 8
        var costs: [PhaseCost] = []
        let direct = try p.denoiser.latents(positive: TextConditioning(hiddenStates: positive), negative: TextConditioning(hiddenStates: negative),
                                            settings: s, costs: &costs)
        XCTAssertEqual(out.latents.scalars, direct.scalars)
        XCTAssertEqual(out.images.scalars, try p.vae.decode(direct).scalars)
        // And the PNG of each image is well formed.
        XCTAssertEqual(Array(try PNGEncoder.encode(out.images.slice(1, 1)).prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    func testPhaseCostsAddUpInAnEnclosingMeter() throws {
        let p = try pipeline()
        let meter = FLOPMeter()
        let out = try meter.measure {
            try p.generate(prompts: ["a cat"], width: 16, height: 16, settings: DenoisingSettings(steps: 2, scheduler: .ddim))
        }
        XCTAssertEqual(meter.flops, out.costs.reduce(0) { $0 + $1.flops })
        XCTAssertGreaterThan(meter.flops, 0)
    }

    func testCancellationStopsAtThePhaseBoundary() throws {
        let p = try pipeline()
        XCTAssertThrowsError(try p.generate(prompts: ["x"], width: 16, height: 16, settings: DenoisingSettings(steps: 3)) { _ in false }) {
            XCTAssertEqual(($0 as? GenerationCancelled)?.phase, .textEncoder)
        }
    }

    func testSizeMustFitTheModels() throws {
        XCTAssertThrowsError(try pipeline().generate(prompts: ["x"], width: 18, height: 16, settings: DenoisingSettings(steps: 1))) {
            XCTAssertTrue("\($0)".contains("multiples of 4"), "\($0)")
        }
    }
}
