import Foundation
import SafeTensors
import TensorCore
import XCTest
@testable import Diffusion

/// Parity with diffusers/transformers on the tiny SDXL-shaped pipeline of tools/fixtures_sdxl.py:
/// both text encoders (penultimate states + projected pooled embeds), one UNet forward with
/// `text_time` (and with LCM's w-embedding), the VAE (scaling 0.13025, force_upcast), 3-step
/// pipelines with Euler "leading" and DPM-Solver++ 2M, an LCM run, and the LCM → device hand-off.
final class SDXLParityTests: XCTestCase {
    static let reference = Result { try SafeTensorsReader(contentsOf: Fixtures.url("sdxl/reference.safetensors")) }
    static let pipeline = Result { try ModelDirectory(Fixtures.url("sdxl/pipeline")) }

    private func tensor(_ key: String) throws -> Tensor {
        let r = try Self.reference.get()
        return Tensor(shape: try r.entry(key).shape, scalars: try r.floats(key))
    }

    private func assertMatches(_ got: Tensor, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(got.shape, try Self.reference.get().entry(key).shape, key, file: file, line: line)
        assertClose(got.scalars, try tensor(key).scalars, relativeTo: 1e-4, key, file: file, line: line)
    }

    private func unet(_ path: String) throws -> UNet2DConditionModel {
        let directory = Fixtures.url(path)
        return try UNet2DConditionModel(configuration: UNetConfiguration.load(from: directory.appendingPathComponent("config.json")),
                                        weights: WeightStore(directory: directory))
    }

    private var schedulerConfig: SchedulerConfig { get throws { try Self.pipeline.get().schedulerConfig() } }

    func testDualTextEncoderMatchesTransformers() throws {
        let encoder = try Self.pipeline.get().promptEncoder()
        XCTAssertTrue(encoder.isDual)
        XCTAssertTrue(encoder.forceZerosForEmptyPrompt)
        XCTAssertEqual(encoder.hiddenDimension, 24)
        func ids(_ key: String) throws -> [[Int]] {
            let t = try tensor(key)
            return (0..<t.shape[0]).map { b in (0..<t.shape[1]).map { Int(t.scalars[b * t.shape[1] + $0]) } }
        }
        let conditioning = try encoder.encode(tokenIDs: [try ids("text.ids1"), try ids("text.ids2")])
        try assertMatches(conditioning.hiddenStates, "text.hidden")
        try assertMatches(try XCTUnwrap(conditioning.pooled), "text.pooled")
        // An empty negative prompt under force_zeros_for_empty_prompt is zeros of the same shapes.
        let zeros = try encoder.unconditional(negativePrompt: "", count: 2, like: conditioning)
        XCTAssertEqual(zeros.hiddenStates.shape, [2, 77, 24])
        XCTAssertEqual(zeros.pooled?.shape, [2, 12])
        XCTAssertTrue(zeros.hiddenStates.scalars.allSatisfy { $0 == 0 } && zeros.pooled!.scalars.allSatisfy { $0 == 0 })
    }

    private func unetConditioning(withW: Bool) throws -> TextConditioning {
        TextConditioning(hiddenStates: try tensor("unet.context"), pooled: try tensor("unet.pooled"), timeIDs: try tensor("unet.time_ids"),
                         guidanceEmbedding: withW ? guidanceScaleEmbedding(try tensor("unet.w").scalars, dimension: 8) : nil)
    }

    func testUNetForwardWithTextTimeMatchesDiffusers() throws {
        let model = try unet("sdxl/pipeline/unet")
        XCTAssertEqual(ModelFamily(model.configuration), .sdxl)
        XCTAssertEqual(model.configuration.transformerLayersPerBlock, [0, 1, 2])
        let noise = try model(try tensor("unet.latents"), timesteps: [811, 17.5], conditioning: try unetConditioning(withW: false))
        try assertMatches(noise, "unet.noise")
        // Without pooled embeds or time ids the forward is refused with a message, not run.
        XCTAssertThrowsError(try model(try tensor("unet.latents"), timesteps: [1], encoderHiddenStates: try tensor("unet.context"))) {
            XCTAssertTrue("\($0)".contains("pooled"), "\($0)")
        }
    }

    /// An SSD-1B-shaped UNet: nested per-layer transformer depths (down [[1, 1], [1, 2], [2, 1]],
    /// up [[2, 1, 1], [1, 2, 1], [1, 1, 1]]) and the resnet-only `UNetMidBlock2D`.
    func testNestedDepthUNetWithResnetOnlyMidBlockMatchesDiffusers() throws {
        let model = try unet("sdxl/ssd_unet")
        XCTAssertEqual(model.configuration.midBlockType, "UNetMidBlock2D")
        XCTAssertEqual(model.upBlocks[1].attentions.map(\.blocks.count), [1, 2, 1])
        XCTAssertNil(model.midBlock?.attention)
        let noise = try model(try tensor("unet.latents"), timesteps: [811, 17.5], conditioning: try unetConditioning(withW: false))
        try assertMatches(noise, "ssd_unet.noise")
    }

    func testLCMGuidanceEmbeddingAndForwardMatchDiffusers() throws {
        try assertMatches(guidanceScaleEmbedding(try tensor("unet.w").scalars, dimension: 8), "lcm_unet.w_embedding")
        let model = try unet("sdxl/lcm_unet")
        XCTAssertEqual(model.configuration.timeCondProjDim, 8)
        try assertMatches(try model(try tensor("unet.latents"), timesteps: [499], conditioning: try unetConditioning(withW: true)), "lcm_unet.noise")
        XCTAssertThrowsError(try model(try tensor("unet.latents"), timesteps: [499], conditioning: try unetConditioning(withW: false)))
    }

    func testVAEDecodesWithSDXLScalingAndForceUpcast() throws {
        let directory = try Self.pipeline.get()
        let vae = try directory.vae()
        XCTAssertEqual(vae.configuration.scalingFactor, 0.13025)
        XCTAssertTrue(vae.configuration.forceUpcast)
        let image = try vae.decode(try tensor("vae.latents"))
        try assertMatches(image, "vae.image")
        // force_upcast: asked for bf16, the SDXL pipeline's VAE still decodes at fp32.
        XCTAssertEqual(try directory.vae(precision: .bf16).decode(try tensor("vae.latents")).scalars, image.scalars)
    }

    private func prompt() throws -> TextConditioning {
        TextConditioning(hiddenStates: try tensor("pipe.prompt"), pooled: try tensor("pipe.prompt_pooled"))
    }

    private func latents(_ denoiser: Denoiser, negative: TextConditioning?, _ settings: DenoisingSettings) throws -> Tensor {
        var costs: [PhaseCost] = []
        return try denoiser.latents(positive: try prompt(), negative: negative, settings: settings, costs: &costs)
    }

    func testEulerLeadingPipelineAgainstZerosMatchesDiffusers() throws {
        let denoiser = Denoiser(unet: try unet("sdxl/pipeline/unet"), schedulerConfig: try schedulerConfig)
        let encoder = try Self.pipeline.get().promptEncoder()
        let negative = try encoder.unconditional(negativePrompt: "", count: 1, like: try prompt())
        let out = try latents(denoiser, negative: negative, DenoisingSettings(steps: 3, scheduler: .euler, guidanceScale: 5, seed: 11,
                                                                            latentHeight: 8, latentWidth: 8,
                                                                            microConditioning: .defaults(height: 16, width: 16)))
        try assertMatches(out, "pipe.euler")
    }

    func testDPMSolverPipelineWithNegativeAndMicroConditioningMatchesDiffusers() throws {
        let denoiser = Denoiser(unet: try unet("sdxl/pipeline/unet"), schedulerConfig: try schedulerConfig)
        let negative = TextConditioning(hiddenStates: try tensor("pipe.negative"), pooled: try tensor("pipe.negative_pooled"))
        let micro = MicroConditioning(originalHeight: 64, originalWidth: 48, cropTop: 4, cropLeft: 8, targetHeight: 32, targetWidth: 32)
        let out = try latents(denoiser, negative: negative, DenoisingSettings(steps: 3, scheduler: .dpmSolverPlusPlus2M, guidanceScale: 4,
                                                                            seed: 12, latentHeight: 8, latentWidth: 8, microConditioning: micro))
        try assertMatches(out, "pipe.dpm")
    }

    func testLCMPipelineMatchesDiffusers() throws {
        let denoiser = Denoiser(unet: try unet("sdxl/lcm_unet"), schedulerConfig: try schedulerConfig)
        // No classifier-free guidance for a w-embedded UNet: no negative is needed.
        let out = try latents(denoiser, negative: nil, DenoisingSettings(steps: 4, scheduler: .lcm, guidanceScale: 3, seed: 13,
                                                                        latentHeight: 8, latentWidth: 8,
                                                                        microConditioning: .defaults(height: 16, width: 16)))
        try assertMatches(out, "pipe.lcm")
    }

    /// LCM-SDXL runs server steps 0..<k, the KOALA-shaped device continues with its own
    /// DPM-Solver++ schedule from step j with fresh solver history — the hybrid hand-off.
    func testLCMHandOffToDeviceSamplerMatchesDiffusers() throws {
        let meta = try JSONSerialization.jsonObject(with: Data(try Self.reference.get().metadata["handoff"]!.utf8)) as! [String: Any]
        let (k, deviceSteps, j) = (meta["k"] as! Int, meta["device_steps"] as! Int, meta["j"] as! Int)
        let (serverGuidance, deviceGuidance) = (Float(meta["server_guidance"] as! Double), Float(meta["device_guidance"] as! Double))
        let config = try schedulerConfig
        let micro = MicroConditioning.defaults(height: 16, width: 16)

        let server = try unet("sdxl/lcm_unet")
        var lcm = try SchedulerKind.lcm.makeScheduler(config: config, steps: meta["server_steps"] as! Int)
        XCTAssertEqual(lcm.timesteps, try tensor("handoff.lcm_timesteps").scalars.map(Double.init))
        var generator = TorchGenerator(seed: UInt64(meta["seed"] as! Int))
        var x = lcm.initialLatents(shape: [1, 4, 8, 8], generator: &generator)
        let serverContext = try prompt().prepared(for: server.configuration, micro: micro, guidanceScale: serverGuidance)
        for i in 0..<k {
            let eps = try server(x, timesteps: [lcm.timesteps[i]], conditioning: serverContext)
            x = lcm.step(modelOutput: eps, sample: x, generator: &generator)
        }
        try assertMatches(x, "handoff.server_latents")

        let device = try unet("sdxl/koala_unet")
        XCTAssertNil(device.midBlock)
        var dpm = try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(config: config, steps: deviceSteps)
        XCTAssertEqual(dpm.timesteps, try tensor("handoff.device_timesteps").scalars.map(Double.init))
        // The paper's rule with Δt = j − k picks j; equal σ picks the device step nearest t_k.
        XCTAssertEqual(try HandOffTimestep.shift(j - k).startIndex(completedSteps: k, latentTimestep: lcm.timesteps[k],
                                                                    deviceTimesteps: dpm.timesteps), j)
        let nearest = try HandOffTimestep.equalNoise.startIndex(completedSteps: k, latentTimestep: lcm.timesteps[k], deviceTimesteps: dpm.timesteps)
        let t = lcm.timesteps[k]
        XCTAssertTrue(dpm.timesteps.allSatisfy { abs(dpm.timesteps[nearest] - t) <= abs($0 - t) }, "t_k = \(t), picked \(dpm.timesteps[nearest])")
        XCTAssertThrowsError(try HandOffTimestep.shift(20).startIndex(completedSteps: k, latentTimestep: 499, deviceTimesteps: dpm.timesteps))
        try dpm.begin(at: j)
        let zeros = try Self.pipeline.get().promptEncoder().unconditional(negativePrompt: "", count: 1, like: try prompt())
        let deviceContext = TextConditioning.concatenated([zeros, try prompt()]).prepared(for: device.configuration, micro: micro,
                                                                                         guidanceScale: deviceGuidance)
        for i in j..<dpm.timesteps.count {
            let eps = try guidedNoise(x, scale: deviceGuidance) { try device($0, timesteps: [dpm.timesteps[i]], conditioning: deviceContext) }
            x = dpm.step(modelOutput: eps, sample: x, generator: &generator)
        }
        try assertMatches(x, "handoff.latents")
    }

    /// The paper's LCM-SDXL setting on SDXL's schedule: after k = 4 of 8 LCM steps the latent sits
    /// at t = 499, and the equal-σ device step of a 25-step DPM-Solver++ is 12 = k + Δt with the
    /// paper's best Δt = 8 (docs/DECISIONS.md has the table for other k).
    func testEqualSigmaHandOffReproducesThePapersShift() throws {
        let lcm = try SchedulerKind.lcm.makeScheduler(config: .stableDiffusionXL, steps: 8)
        let dpm = try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(config: .stableDiffusionXL, steps: 25)
        XCTAssertEqual(lcm.timesteps, [999, 879, 759, 639, 499, 379, 259, 139])
        XCTAssertEqual(dpm.timesteps.first, 951)
        XCTAssertEqual(dpm.timesteps.last, 39)
        let j = try HandOffTimestep.equalNoise.startIndex(completedSteps: 4, latentTimestep: lcm.timesteps[4], deviceTimesteps: dpm.timesteps)
        XCTAssertEqual(j, 4 + 8)
        XCTAssertEqual(dpm.timesteps[j], 495)
        XCTAssertEqual(try HandOffTimestep(argument: "shift:8"), .shift(8))
        XCTAssertEqual(try HandOffTimestep(argument: "equal-sigma"), .equalNoise)
        XCTAssertThrowsError(try HandOffTimestep(argument: "8"))
    }

    /// SDXL's `tokenizer_2` (OpenCLIP's) pads with `!` (id 0) where `tokenizer` pads with end-of-text.
    func testSecondTokenizerPadsWithItsOwnToken() throws {
        let first = try CLIPTokenizer.bundled(), second = try first.padding(with: "!")
        XCTAssertEqual(second.paddingID, 0)
        let (a, b) = (first.encode("a photo of a cat"), second.encode("a photo of a cat"))
        XCTAssertEqual(Array(a.prefix(7)), Array(b.prefix(7)), "same tokens and end-of-text")
        XCTAssertEqual(a.last, first.endOfTextID)
        XCTAssertEqual(b.last, 0)
        XCTAssertThrowsError(try first.padding(with: "<no such token>"))
    }

    func testSDXLPresetsValidateAndNameTheirFamily() throws {
        XCTAssertEqual(ModelFamily(.sdxl), .sdxl)
        XCTAssertEqual(ModelFamily(.sd15), .sd1)
        XCTAssertEqual(UNetConfiguration.preset(named: "koala-700m")?.midBlockType, nil)
        XCTAssertEqual(UNetConfiguration.lcmSDXL.timeCondProjDim, 256)
        for name in ["sdxl", "lcm-sdxl", "koala-1b", "koala-700m"] { XCTAssertNoThrow(try UNetConfiguration.preset(named: name)!.validate(), name) }
    }
}
