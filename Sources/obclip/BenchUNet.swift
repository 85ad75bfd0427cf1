import ArgumentParser
import Diffusion
import Foundation
import TensorCore

/// `obclip bench unet`: seconds per UNet forward for a built-in architecture with random
/// weights, the FLOPs the kernels executed, and the effective rate.
struct BenchUNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unet",
        abstract: "Time one UNet forward (random weights) and report executed GFLOP and GFLOP/s."
    )

    @Option(help: "Architecture: \(UNetConfiguration.presetNames.joined(separator: ", ")).")
    var arch = "sd15"

    @Option(help: "Batch size (with classifier-free guidance a step is batch 2 per image).")
    var batch = 1

    @Option(help: "Image size in pixels (latents are size/8 square).")
    var size = 512

    @OptionGroup var options: ModelBenchOptions

    func validate() throws {
        guard UNetConfiguration.preset(named: arch) != nil else {
            throw ValidationError("unknown --arch \(arch); choose one of \(UNetConfiguration.presetNames.joined(separator: ", "))")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1") }
        guard size >= 64, size % 64 == 0 else { throw ValidationError("--size must be a positive multiple of 64") }
    }

    func run() throws {
        let configuration = UNetConfiguration.preset(named: arch)!
        let (unet, buildSeconds) = try timed {
            try UNet2DConditionModel(configuration: configuration, weights: .random(seed: 1, precision: options.precision))
        }
        let latentSize = size / 8
        let latents = Tensor(shape: [batch, configuration.inChannels, latentSize, latentSize],
                             scalars: (0..<(batch * configuration.inChannels * latentSize * latentSize)).map { sinf(Float($0) * 0.37) })
        let context = Tensor(shape: [batch, 77, configuration.crossAttentionDim],
                             scalars: (0..<(batch * 77 * configuration.crossAttentionDim)).map { cosf(Float($0) * 0.11) })
        print("unet \(arch): built in \(format(buildSeconds)) s; batch \(batch), \(size)×\(size) (latents \(latentSize)×\(latentSize)), threads \(Parallel.threads)")
        try options.report(label: "unet \(arch)", batch: batch) {
            _ = try unet(latents, timesteps: [500], encoderHiddenStates: context)
        }
    }
}
