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

    @Option(help: "Afterwards, run full denoising loops of this many steps (default sampler, guidance 7.5) with fp32 weights and with --precision's, from the same noise and embeddings, and print the relative L2 difference of the final latents.")
    var latentErrorSteps: Int?

    @Flag(help: "With --latent-error-steps: compare against the same precision with every convolution built for the direct method (as OBCLIP_CONV=direct builds them) instead of fp32, to measure what Winograd changes.")
    var againstDirect = false

    func validate() throws {
        guard UNetConfiguration.preset(named: arch) != nil else {
            throw ValidationError("unknown --arch \(arch); choose one of \(UNetConfiguration.presetNames.joined(separator: ", "))")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1") }
        if let latentErrorSteps, latentErrorSteps < 1 || options.countOnly {
            throw ValidationError("--latent-error-steps must be ≥ 1 and cannot be combined with --count-only")
        }
        if againstDirect && latentErrorSteps == nil { throw ValidationError("--against-direct needs --latent-error-steps") }
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
        let context = Self.syntheticConditioning(configuration, batch: batch, size: size, phase: 0.11)
        print("unet \(arch): built in \(format(buildSeconds)) s; batch \(batch), \(size)×\(size) (latents \(latentSize)×\(latentSize)), threads \(Parallel.threads)")
        try options.report(label: "unet \(arch)", batch: batch) {
            _ = try unet(latents, timesteps: [500], conditioning: context)
        }
        if let latentErrorSteps { try reportLatentError(unet, configuration: configuration, context: context, steps: latentErrorSteps) }
    }

    /// Prints ‖x − x_fp32‖ / ‖x_fp32‖ for the final latents of `steps`-step generations with
    /// `unet` (weights at --precision) and an fp32 twin with the same random weights.
    private func reportLatentError(_ unet: UNet2DConditionModel, configuration: UNetConfiguration, context: TextConditioning, steps: Int) throws {
        let policy = ConvolutionPolicy.current
        let reference: UNet2DConditionModel
        if againstDirect {
            // Same weights and precision, every convolution built for the direct method.
            ConvolutionPolicy.current = .direct
            defer { ConvolutionPolicy.current = policy }
            reference = try UNet2DConditionModel(configuration: configuration, weights: .random(seed: 1, precision: options.precision))
        } else {
            reference = options.precision == .fp32 ? unet : try UNet2DConditionModel(configuration: configuration, weights: .random(seed: 1))
        }
        let negative = Self.syntheticConditioning(configuration, batch: batch, size: size, phase: 0.07)
        let settings = DenoisingSettings(steps: steps, latentHeight: size / 8, latentWidth: size / 8)
        func finalLatents(_ model: UNet2DConditionModel) throws -> (Tensor, Double) {
            var costs: [PhaseCost] = []
            return try timed {
                try Denoiser(unet: model, schedulerConfig: ModelFamily(configuration) == .sdxl ? .stableDiffusionXL : .stableDiffusion15)
                    .latents(positive: context, negative: negative, settings: settings, costs: &costs)
            }
        }
        let (ours, oursSeconds) = try finalLatents(unet)
        let (theirs, theirsSeconds) = try finalLatents(reference)
        var difference = 0.0, norm = 0.0
        for i in 0..<ours.count {
            let (a, b) = (Double(ours.pointer[i]), Double(theirs.pointer[i]))
            difference += (a - b) * (a - b)
            norm += b * b
        }
        print("latents after \(steps) steps (\(settings.scheduler.rawValue), guidance \(settings.guidanceScale)): relative L2 \(options.precision.rawValue) (convolutions \(policy.rawValue)) vs \(againstDirect ? options.precision.rawValue + " direct" : "fp32") "
              + String(format: "%.3e", (difference / norm).squareRoot()) + " (\(format(oursSeconds)) s vs \(format(theirsSeconds)) s)")
    }

    /// Deterministic stand-in text conditioning for `configuration`'s UNet: 77 tokens, pooled
    /// embeds and the default micro-conditioning for SDXL-family UNets, LCM's guidance embedding
    /// at scale 7.5 where the UNet has one.
    static func syntheticConditioning(_ configuration: UNetConfiguration, batch: Int, size: Int, phase: Float) -> TextConditioning {
        let d = configuration.crossAttentionDim
        let hidden = Tensor(shape: [batch, 77, d], scalars: (0..<(batch * 77 * d)).map { cosf(Float($0) * phase) })
        let pooled = configuration.pooledTextDimension.map { p in
            Tensor(shape: [batch, p], scalars: (0..<(batch * p)).map { sinf(Float($0) * phase) })
        }
        return TextConditioning(hiddenStates: hidden, pooled: pooled)
            .prepared(for: configuration, micro: .defaults(height: size, width: size), guidanceScale: 7.5)
    }
}
