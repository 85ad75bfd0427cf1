import Foundation
import TensorCore

/// The text-to-image denoising loop of diffusers' `StableDiffusionPipeline`, from prompt
/// embeddings to final latents, with an optional switch to a second UNet (Hybrid SD).
///
/// Per step: `x_in = scale_model_input(x)`; with guidance the batch is `[x_in; x_in]` against
/// `[negative; positive]` embeddings and `ε = ε_u + g·(ε_c − ε_u)`; `x = step(ε, x)`. The initial
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

    /// Final NCHW latents `[b, in_channels, h, w]` for `positive` embeddings `[b, tokens, d]`
    /// (and `negative`, same shape, required when guidance is on). `costs` receives wall time
    /// and FLOPs per UNet. Throws `GenerationCancelled` if `progress` returns false.
    public func latents(positive: Tensor, negative: Tensor?, settings s: DenoisingSettings,
                        costs: inout [PhaseCost], progress: GenerationProgressHandler = { _ in true }) throws -> Tensor {
        guard positive.rank == 3 else { throw UNetError.invalidInput("prompt embeddings must be [batch, tokens, channels], got \(positive.shape)") }
        let batch = positive.shape[0]
        var context = positive
        if s.usesGuidance {
            guard let negative, negative.shape == positive.shape else {
                throw UNetError.invalidInput("guidance needs negative embeddings shaped like the prompt's \(positive.shape), got \(negative?.shape ?? [])")
            }
            context = concatBatch([negative, positive])
        }
        if let k = s.switchStep {
            guard secondUNet != nil else { throw UNetError.invalidInput("a switch step needs a second UNet") }
            guard k >= 0 else { throw UNetError.invalidInput("switch step must be ≥ 0, got \(k)") }
        }
        var scheduler = try s.scheduler.makeScheduler(config: schedulerConfig, steps: s.steps)
        var generator = TorchGenerator(seed: s.seed)
        let shape = [batch, unet.configuration.inChannels, s.latentHeight, s.latentWidth]
        try unet.validate(latents: shape, timesteps: 1, encoderHiddenStates: positive.shape)
        if let secondUNet { try secondUNet.validate(latents: shape, timesteps: 1, encoderHiddenStates: positive.shape) }
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
            let phase = GenerationPhase.unet(model: usesSecond(i) ? 1 : 0)
            let (next, cost) = try PhaseCost.measuring(phase) { () throws -> Tensor in
                let input = scheduler.scaleModelInput(x, index: i)
                let noise = try guidedNoise(input, scale: s.usesGuidance ? s.guidanceScale : nil) {
                    try model($0, timesteps: [t], encoderHiddenStates: context)
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
