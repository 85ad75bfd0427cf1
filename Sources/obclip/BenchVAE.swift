import ArgumentParser
import Diffusion
import Foundation
import TensorCore

/// `obclip bench vae`: seconds per VAE decode (SD1.x VAE, random weights), executed GFLOP and
/// the effective rate.
struct BenchVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Time one SD VAE decode (random weights) and report executed GFLOP and GFLOP/s."
    )

    @Option(help: "Batch size (images decoded per call, one at a time inside).")
    var batch = 1

    @Option(help: "Output image size in pixels (latents are size/8 square).")
    var size = 512

    @OptionGroup var options: ModelBenchOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1") }
        guard size >= 8, size % 8 == 0 else { throw ValidationError("--size must be a positive multiple of 8") }
    }

    func run() throws {
        let configuration = AutoencoderKLConfiguration.sd
        let (vae, buildSeconds) = try timed {
            try AutoencoderKL(configuration: configuration, weights: .random(seed: 2, precision: options.precision))
        }
        let latentSize = size / 8
        let count = batch * configuration.latentChannels * latentSize * latentSize
        let latents = Tensor(shape: [batch, configuration.latentChannels, latentSize, latentSize],
                             scalars: (0..<count).map { 0.18215 * sinf(Float($0) * 0.37) })
        print("vae decode: built in \(format(buildSeconds)) s; batch \(batch), latents \(latentSize)×\(latentSize) → \(size)×\(size), threads \(Parallel.threads)")
        try options.report(label: "vae decode", batch: batch) {
            _ = try vae.decode(latents)
        }
    }
}
