import Foundation
import SafeTensors
import TensorCore
import XCTest
@testable import Diffusion

/// VAE decoding against diffusers (`vae.decode(latents / scaling_factor)`, then
/// `clamp(x/2 + 0.5)`), on a small random-weight AutoencoderKL saved with the legacy attention
/// names `query/key/value/proj_attn`.
final class VAEParityTests: XCTestCase {
    func testDecodeMatchesDiffusers() throws {
        let directory = Fixtures.url("vae/sd_like")
        let configuration = try AutoencoderKLConfiguration.load(from: directory.appendingPathComponent("config.json"))
        XCTAssertEqual(configuration.scalingFactor, 0.18215)
        let vae = try AutoencoderKL(configuration: configuration, weights: WeightStore(directory: directory))
        let reference = try SafeTensorsReader(contentsOf: Fixtures.url("vae/sd_like_reference.safetensors"))
        let latents = Tensor(shape: try reference.entry("latents").shape, scalars: try reference.floats("latents"))
        let image = try vae.decode(latents)
        XCTAssertEqual(image.shape, try reference.entry("image").shape)
        assertClose(image.scalars, try reference.floats("image"), relativeTo: 1e-4)
    }

    func testBadLatentsThrow() throws {
        let directory = Fixtures.url("vae/sd_like")
        let vae = try AutoencoderKL(configuration: try AutoencoderKLConfiguration.load(from: directory.appendingPathComponent("config.json")),
                                    weights: WeightStore(directory: directory))
        XCTAssertThrowsError(try vae.decode(Tensor(zeros: [1, 3, 8, 8]))) { XCTAssertTrue("\($0)".contains("latents"), "\($0)") }
    }
}
