import Foundation
import TensorCore

/// The text-to-image denoising loop of diffusers' `StableDiffusionPipeline`, from prompt
/// embeddings to final latents, with an optional switch to a second UNet (Hybrid SD).
///
/// Per step: `x_in = scale_model_input(x)`; with guidance the batch is `[x_in; x_in]` against
/// `[negative; positive]` conditioning and `ε = ε_u + g·(ε_c − ε_u)`; `x = step(ε, x)`. A UNet
/// with LCM's guidance embedding (`time_cond_proj_dim`) is never run with classifier-free
/// guidance — it receives the embedded scale instead (diffusers' `do_classifier_free_guidance`). The initial
/// latents are `randn([b, 4, h, w]) · init_noise_sigma` from a `TorchGenerator` seeded like
/// `torch.Generator().manual_seed(seed)`, which the sampler then keeps drawing from. The steps
/// run on `DenoisingTrajectory.run`, the loop the server and the device use too.
public struct Denoiser: Sendable {
    public let unet: UNet2DConditionModel
    /// Used for calls at index ≥ `switchStep`.
    public let secondUNet: UNet2DConditionModel?
    public let schedulerConfig: SchedulerConfig

    public init(unet: UNet2DConditionModel, secondUNet: UNet2DConditionModel? = nil, schedulerConfig: SchedulerConfig) {
        self.unet = unet
        self.secondUNet = secondUNet
        self.schedulerConfig = schedulerConfig
    }

    /// Whether `unet` runs with classifier-free guidance under `settings` (not for LCM's
    /// guidance-embedded UNets).
    public static func usesGuidance(_ unet: UNet2DConditionModel, _ settings: DenoisingSettings) -> Bool {
        unet.configuration.usesClassifierFreeGuidance(scale: settings.guidanceScale)
    }

    /// Final NCHW latents `[b, in_channels, h, w]` for `positive` text conditioning (b rows; the
    /// micro-conditioning and guidance embedding are added here per UNet) and `negative` (same
    /// shapes, required when guidance is on). `costs` receives wall time and FLOPs per UNet.
    /// Throws `GenerationCancelled` if `progress` returns false.
    public func latents(positive: TextConditioning, negative: TextConditioning?, settings s: DenoisingSettings,
                        costs: inout [PhaseCost], progress: GenerationProgressHandler = { _ in true }) throws -> Tensor {
        let hidden = positive.hiddenStates.shape
        guard hidden.count == 3 else { throw UNetError.invalidInput("prompt embeddings must be [batch, tokens, channels], got \(hidden)") }
        let stages = try self.stages(positive: positive, negative: negative, settings: s)
        let scheduler = try s.scheduler.makeScheduler(config: schedulerConfig, steps: s.steps)
        let shape = [hidden[0], unet.configuration.inChannels, s.latentHeight, s.latentWidth]
        func stage(_ call: Int) -> DenoisingStage { s.switchStep.map { call >= $0 } == true ? stages[1] : stages[0] }
        // The initial noise is part of the first call's phase, so phase costs add up to the total.
        var (trajectory, initialCost) = PhaseCost.measuring(stage(0).phase) {
            DenoisingTrajectory.fresh(seed: s.seed, shape: shape, scheduler: scheduler)
        }
        costs.accumulate(initialCost)
        for cost in try trajectory.run(calls: 0..<trajectory.callCount, stage: stage, progress: progress) { costs.accumulate(cost) }
        return trajectory.latents
    }

    /// The main UNet's stage and, with a switch step, the second UNet's.
    private func stages(positive: TextConditioning, negative: TextConditioning?, settings s: DenoisingSettings) throws -> [DenoisingStage] {
        if let k = s.switchStep {
            guard secondUNet != nil else { throw UNetError.invalidInput("a switch step needs a second UNet") }
            guard k >= 0 else { throw UNetError.invalidInput("switch step must be ≥ 0, got \(k)") }
        }
        let micro = s.microConditioning ?? .defaults(height: s.latentHeight * 8, width: s.latentWidth * 8)
        let models = [unet] + (s.switchStep == nil ? [] : secondUNet.map { [$0] } ?? [])
        return try models.enumerated().map { index, model in
            try DenoisingStage(model: model, positive: positive, negative: { negative }, micro: micro,
                               guidanceScale: s.guidanceScale, phase: .unet(model: index))
        }
    }
}
