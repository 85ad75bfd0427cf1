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
/// `torch.Generator().manual_seed(seed)`, which the sampler then keeps drawing from.
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
        settings.usesGuidance && unet.configuration.timeCondProjDim == nil
    }

    /// Final NCHW latents `[b, in_channels, h, w]` for `positive` text conditioning (b rows; the
    /// micro-conditioning and guidance embedding are added here per UNet) and `negative` (same
    /// shapes, required when guidance is on). `costs` receives wall time and FLOPs per UNet.
    /// Throws `GenerationCancelled` if `progress` returns false.
    public func latents(positive: TextConditioning, negative: TextConditioning?, settings s: DenoisingSettings,
                        costs: inout [PhaseCost], progress: GenerationProgressHandler = { _ in true }) throws -> Tensor {
        let hidden = positive.hiddenStates.shape
        guard hidden.count == 3 else { throw UNetError.invalidInput("prompt embeddings must be [batch, tokens, channels], got \(hidden)") }
        let batch = hidden[0]
        let micro = s.microConditioning ?? .defaults(height: s.latentHeight * 8, width: s.latentWidth * 8)
        func context(for model: UNet2DConditionModel) throws -> TextConditioning {
            guard Self.usesGuidance(model, s) else { return positive.prepared(for: model.configuration, micro: micro, guidanceScale: s.guidanceScale) }
            guard let negative, negative.hiddenStates.shape == hidden, negative.pooled?.shape == positive.pooled?.shape else {
                throw UNetError.invalidInput("guidance needs negative embeddings shaped like the prompt's \(hidden), got \(negative?.hiddenStates.shape ?? [])")
            }
            return TextConditioning.concatenated([negative, positive]).prepared(for: model.configuration, micro: micro, guidanceScale: s.guidanceScale)
        }
        if let k = s.switchStep {
            guard secondUNet != nil else { throw UNetError.invalidInput("a switch step needs a second UNet") }
            guard k >= 0 else { throw UNetError.invalidInput("switch step must be ≥ 0, got \(k)") }
        }
        var scheduler = try s.scheduler.makeScheduler(config: schedulerConfig, steps: s.steps)
        var generator = TorchGenerator(seed: s.seed)
        let shape = [batch, unet.configuration.inChannels, s.latentHeight, s.latentWidth]
        let contexts = try [unet, secondUNet].map { try $0.map(context(for:)) }
        for (model, c) in zip([unet, secondUNet], contexts) {
            guard let model, let c else { continue }
            try model.validate(latents: [c.batch] + shape.dropFirst(), timesteps: 1, conditioning: c)
        }
        func usesSecond(_ call: Int) -> Bool { s.switchStep.map { call >= $0 } ?? false }
        func account(_ cost: PhaseCost) {
            if let j = costs.firstIndex(where: { $0.phase == cost.phase }) {
                costs[j].seconds += cost.seconds
                costs[j].flops += cost.flops
            } else {
                costs.append(cost)
            }
        }
        // The initial noise is part of the first call's phase, so phase costs add up to the total.
        var (x, initialCost) = PhaseCost.measuring(.unet(model: usesSecond(0) ? 1 : 0)) {
            scale(generator.randn(shape), scheduler.initNoiseSigma)
        }
        account(initialCost)
        let total = scheduler.timesteps.count
        for (i, t) in scheduler.timesteps.enumerated() {
            let model = usesSecond(i) ? secondUNet! : unet
            let context = contexts[usesSecond(i) ? 1 : 0]!
            let phase = GenerationPhase.unet(model: usesSecond(i) ? 1 : 0)
            let (next, cost) = try PhaseCost.measuring(phase) { () throws -> Tensor in
                let input = scheduler.scaleModelInput(x, index: i)
                let noise = try guidedNoise(input, scale: Self.usesGuidance(model, s) ? s.guidanceScale : nil) {
                    try model($0, timesteps: [t], conditioning: context)
                }
                return scheduler.step(modelOutput: noise, sample: x, generator: &generator)
            }
            x = next
            account(cost)
            if !progress(GenerationProgress(phase: phase, completed: i + 1, total: total)) { throw GenerationCancelled(phase: phase) }
        }
        return x
    }
}
