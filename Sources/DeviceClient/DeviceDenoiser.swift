import Diffusion
import Foundation
import TensorCore
import WireProtocol

/// The device half of Algorithm 1 (lines 7–9): continue the kept latent with the small UNet on
/// the real prompt, then decode with the VAE.
public struct DeviceDenoiser: Sendable {
    public let models: DeviceModels

    public init(models: DeviceModels) { self.models = models }

    /// Where the device's trajectory starts.
    public enum Start: Sendable {
        /// The server's hand-off for the kept candidate (steps `k..<T` remain).
        case handOff(CandidateContinuation)
        /// No server: fresh noise from `seed`, all T steps on the device.
        case fresh(seed: UInt64)
    }

    /// Runs the remaining model calls with classifier-free guidance on `prompt` and returns the
    /// final latent `[1, 4, h/8, w/8]`. `progress` is told about each step.
    public func denoise(prompt: String, settings: GenerationSettings, from start: Start,
                        progress: (Int, Int) -> Void = { _, _ in }) throws -> Tensor {
        let kind = try SchedulerKind(name: settings.scheduler)
        var scheduler = try kind.makeScheduler(config: models.schedulerConfig, steps: settings.steps)
        var generator: TorchGenerator
        var latents: Tensor
        switch start {
        case .fresh(let seed):
            generator = TorchGenerator(seed: seed)
            let noise = generator.randn([1, GenerationResponse.latentChannels, settings.height / 8, settings.width / 8])
            latents = scale(noise, scheduler.initNoiseSigma)
        case .handOff(let handOff):
            generator = try TorchGenerator(encoded: handOff.generatorState)
            let shared = try SchedulerState(encoded: Data(handOff.schedulerState))
            // The opaque state must agree with what the response claims (validated against the
            // request): a server cannot hand over a trajectory at another step than k.
            guard shared.stepIndex == handOff.completedSteps else {
                throw ResponseError(field: ResponseCodec.schedulerStateKey,
                                    "scheduler state is at model call \(shared.stepIndex), the response claims k = \(handOff.completedSteps)")
            }
            let history = handOff.perCandidateState.mapValues { Tensor(shape: $0.shape, scalars: $0.scalars) }
            try scheduler.restore(SchedulerState(kind: shared.kind, steps: shared.steps, stepIndex: shared.stepIndex,
                                                 counters: shared.counters, tensors: history))
            latents = Tensor(shape: handOff.latent.shape, scalars: handOff.latent.scalars)
        }
        let guided = settings.guidanceScale > 1
        let cond = try models.textEncoder.lastHiddenState(tokenIDs: [models.tokenizer.encode(prompt)])
        let context = guided
            ? concatBatch([try models.textEncoder.lastHiddenState(tokenIDs: [models.tokenizer.encode(settings.negativePrompt)]), cond])
            : cond
        let calls = scheduler.timesteps.count
        for index in scheduler.stepIndex..<calls {
            let input = scheduler.scaleModelInput(latents, index: index)
            let prediction = try guidedNoise(input, scale: guided ? settings.guidanceScale : nil) {
                try models.unet($0, timesteps: [scheduler.timesteps[index]], encoderHiddenStates: context)
            }
            latents = scheduler.step(modelOutput: prediction, sample: latents, generator: &generator)
            progress(index + 1, calls)
        }
        return latents
    }

    /// NHWC image `[1, H, W, 3]` in [0, 1].
    public func decode(_ latents: Tensor) throws -> Tensor { try models.vae.decode(latents) }
}
