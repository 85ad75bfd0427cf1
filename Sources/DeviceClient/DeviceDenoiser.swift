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
    /// final latent `[1, 4, h/8, w/8]`. `progress` is told about each step. A cancelled calling
    /// task stops it before the next step with `CancellationError`.
    ///
    /// With `settings.deviceSampler` a hand-off continues on the device's own scheduler from the
    /// step its `firstStep` rule picks (LCM on the server, DPM-Solver++ on the device); otherwise
    /// the server's scheduler resumes exactly where it stopped.
    public func denoise(prompt: String, settings: GenerationSettings, from start: Start,
                        progress: (Int, Int) -> Void = { _, _ in }) throws -> Tensor {
        let serverKind = try SchedulerKind(name: settings.scheduler)
        var generator: TorchGenerator
        var latents: Tensor
        var scheduler: any Scheduler
        var guidanceScale = settings.guidanceScale
        switch start {
        case .fresh(let seed):
            scheduler = try serverKind.makeScheduler(config: models.schedulerConfig, steps: settings.steps)
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
            latents = Tensor(shape: handOff.latent.shape, scalars: handOff.latent.scalars)
            if let own = settings.deviceSampler {
                scheduler = try handedOver(to: own, after: handOff, serverKind: serverKind, steps: settings.steps)
                guidanceScale = own.guidanceScale
            } else {
                scheduler = try serverKind.makeScheduler(config: models.schedulerConfig, steps: settings.steps)
                let history = handOff.perCandidateState.mapValues { Tensor(shape: $0.shape, scalars: $0.scalars) }
                try scheduler.restore(SchedulerState(kind: shared.kind, steps: shared.steps, stepIndex: shared.stepIndex,
                                                     counters: shared.counters, tensors: history))
            }
        }
        let guided = guidanceScale > 1 && models.unet.configuration.timeCondProjDim == nil
        let cond = try models.promptEncoder.encode([prompt])
        let context = (guided
            ? TextConditioning.concatenated([try models.promptEncoder.unconditional(negativePrompt: settings.negativePrompt, count: 1, like: cond), cond])
            : cond).prepared(for: models.unet.configuration, micro: settings.effectiveMicroConditioning, guidanceScale: guidanceScale)
        let calls = scheduler.timesteps.count
        for index in scheduler.stepIndex..<calls {
            try Task.checkCancellation()
            let input = scheduler.scaleModelInput(latents, index: index)
            let prediction = try guidedNoise(input, scale: guided ? guidanceScale : nil) {
                try models.unet($0, timesteps: [scheduler.timesteps[index]], conditioning: context)
            }
            latents = scheduler.step(modelOutput: prediction, sample: latents, generator: &generator)
            progress(index + 1, calls)
        }
        return latents
    }

    /// The device's own scheduler, begun at the step `own.firstStep` picks for a latent the
    /// server's `serverKind` sampler left after `handOff.completedSteps` of its `steps` steps.
    private func handedOver(to own: DeviceSampler, after handOff: CandidateContinuation, serverKind: SchedulerKind,
                            steps: Int) throws -> any Scheduler {
        let server = try serverKind.makeScheduler(config: models.schedulerConfig, steps: steps)
        let k = handOff.completedSteps
        guard k < server.timesteps.count else {
            throw SchedulerError.invalidHandOff("the server finished all \(server.timesteps.count) steps; nothing is left to hand over")
        }
        var device = try SchedulerKind(name: own.scheduler).makeScheduler(config: models.schedulerConfig, steps: own.steps)
        // The hand-off latent is variance preserving (√ᾱ·x₀ + √(1−ᾱ)·ε); σ-space samplers would need it rescaled.
        guard device.initNoiseSigma == 1, server.initNoiseSigma == 1 else {
            throw SchedulerError.invalidHandOff("\(serverKind.rawValue) → \(own.scheduler): only variance-preserving samplers (ddim, dpm++2m, lcm) can take over")
        }
        try device.begin(at: try own.firstStep.startIndex(completedSteps: k, latentTimestep: server.timesteps[k],
                                                          deviceTimesteps: device.timesteps))
        return device
    }

    /// NHWC image `[1, H, W, 3]` in [0, 1].
    public func decode(_ latents: Tensor) throws -> Tensor { try models.vae.decode(latents) }
}
