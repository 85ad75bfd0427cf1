import Foundation
import SafeTensors
import TensorCore
import XCTest
@testable import Diffusion

/// UNet noise predictions against diffusers on the small random-weight models made by
/// `tools/fixtures_unet_vae.py` (several timesteps, incl. fractional and per-sample ones).
final class UNetParityTests: XCTestCase {
    private func checkParity(_ name: String, cases: Int) throws {
        let directory = Fixtures.url("unet/\(name)")
        let configuration = try UNetConfiguration.load(from: directory.appendingPathComponent("config.json"))
        let unet = try UNet2DConditionModel(configuration: configuration, weights: WeightStore(directory: directory))
        let reference = try SafeTensorsReader(contentsOf: Fixtures.url("unet/\(name)_reference.safetensors"))
        func tensor(_ key: String) throws -> Tensor {
            Tensor(shape: try reference.entry(key).shape, scalars: try reference.floats(key))
        }
        for i in 0..<cases {
            let timesteps = try reference.floats("case\(i).timesteps").map(Double.init)
            let noise = try unet(try tensor("case\(i).latents"), timesteps: timesteps,
                                 encoderHiddenStates: try tensor("case\(i).context"))
            XCTAssertEqual(noise.shape, try reference.entry("case\(i).noise").shape)
            assertClose(noise.scalars, try reference.floats("case\(i).noise"), relativeTo: 1e-4, "\(name) case \(i) t=\(timesteps)")
        }
    }

    /// Cross-attention down/up blocks, a mid block, 2 layers per block, conv projections,
    /// per-block heads `[2, 4]`.
    func testSDLikeUNetMatchesDiffusers() throws {
        try checkParity("sd_like", cases: 3)
    }

    /// `layers_per_block: 1`, `mid_block_type: null`, three stages, linear projections.
    func testBKSmallLikeUNetMatchesDiffusers() throws {
        try checkParity("bk_small_like", cases: 2)
    }

    func testDownAndUpPathsComposeToTheForward() throws {
        let directory = Fixtures.url("unet/bk_small_like")
        let unet = try UNet2DConditionModel(configuration: try UNetConfiguration.load(from: directory.appendingPathComponent("config.json")),
                                            weights: WeightStore(directory: directory))
        let latents = Tensor(shape: [1, 4, 8, 8], scalars: (0..<256).map { sinf(Float($0)) })
        let context = Tensor(shape: [1, 3, 8], scalars: (0..<24).map { cosf(Float($0)) })
        let whole = try unet(latents, timesteps: [321], encoderHiddenStates: context)
        let temb = unet.timeEmbedding([321], conditioning: TextConditioning(hiddenStates: context))
        let features = unet.downPath(nchwToNHWC(latents), timeEmbedding: temb, context: context)
        XCTAssertEqual(features.skips.count, 1 + 3 + 2, "conv_in + one per layer + two downsamplers")
        let split = nhwcToNCHW(unet.upPath(features, timeEmbedding: temb, context: context))
        XCTAssertEqual(split.scalars, whole.scalars)
    }

    func testBadInputsThrowNamingTheArgument() throws {
        let directory = Fixtures.url("unet/bk_small_like")
        let unet = try UNet2DConditionModel(configuration: try UNetConfiguration.load(from: directory.appendingPathComponent("config.json")),
                                            weights: WeightStore(directory: directory))
        let context = Tensor(zeros: [1, 3, 8])
        XCTAssertThrowsError(try unet(Tensor(zeros: [1, 4, 6, 8]), timesteps: [1], encoderHiddenStates: context)) {
            XCTAssertTrue("\($0)".contains("multiples of 4"), "\($0)")
        }
        XCTAssertThrowsError(try unet(Tensor(zeros: [1, 3, 8, 8]), timesteps: [1], encoderHiddenStates: context)) {
            XCTAssertTrue("\($0)".contains("latents"), "\($0)")
        }
        XCTAssertThrowsError(try unet(Tensor(zeros: [1, 4, 8, 8]), timesteps: [1], encoderHiddenStates: Tensor(zeros: [1, 3, 9]))) {
            XCTAssertTrue("\($0)".contains("encoder hidden states"), "\($0)")
        }
        XCTAssertThrowsError(try unet(Tensor(zeros: [1, 4, 8, 8]), timesteps: [1, 2], encoderHiddenStates: context)) {
            XCTAssertTrue("\($0)".contains("timesteps"), "\($0)")
        }
    }

    func testMissingTensorErrorNamesTheKey() throws {
        // The sd_like weights lack the mid block's keys of a config that asks for more layers.
        let directory = Fixtures.url("unet/sd_like")
        var configuration = try UNetConfiguration.load(from: directory.appendingPathComponent("config.json"))
        configuration.layersPerBlock = [3, 3]
        XCTAssertThrowsError(try UNet2DConditionModel(configuration: configuration, weights: WeightStore(directory: directory))) {
            XCTAssertTrue("\($0)".contains("down_blocks.0.resnets.2."), "\($0)")
        }
    }
}
