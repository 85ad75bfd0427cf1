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
        var (trajectory, guidanceScale) = try begin(start, settings: settings)
        let positive = try models.promptEncoder.encode([prompt])
        let stage = try DenoisingStage(model: models.unet, positive: positive, negative: {
            try models.promptEncoder.unconditional(negativePrompt: settings.negativePrompt, count: 1, like: positive)
        }, micro: settings.effectiveMicroConditioning, guidanceScale: guidanceScale)
        try Task.checkCancellation()
        do {
            try trajectory.run(calls: trajectory.nextCall..<trajectory.callCount, stage: { _ in stage }) {
                progress($0.completed, $0.total)
                return !Task.isCancelled
            }
        } catch is GenerationCancelled {
            throw CancellationError()
        }
        return trajectory.latents
    }

    /// The trajectory at `start` and the guidance scale its remaining steps take: fresh noise on
    /// the server's scheduler, the server's scheduler restored from the hand-off, or the
    /// device's own sampler (`settings.deviceSampler`) begun where its rule says.
    private func begin(_ start: Start, settings: GenerationSettings) throws -> (DenoisingTrajectory, guidanceScale: Float) {
        let serverKind = try SchedulerKind(name: settings.scheduler)
        switch start {
        case .fresh(let seed):
            let scheduler = try serverKind.makeScheduler(config: models.schedulerConfig, steps: settings.steps)
            let shape = [1, GenerationResponse.latentChannels, settings.height / 8, settings.width / 8]
            return (DenoisingTrajectory.fresh(seed: seed, shape: shape, scheduler: scheduler), settings.guidanceScale)
        case .handOff(let handOff):
            let generator = try TorchGenerator(encoded: handOff.generatorState)
            let shared = try SchedulerState(encoded: Data(handOff.schedulerState))
            // The opaque state must agree with what the response claims (validated against the
            // request): a server cannot hand over a trajectory at another step than k.
            guard shared.stepIndex == handOff.completedSteps else {
                throw ResponseError(field: ResponseCodec.schedulerStateKey,
                                    "scheduler state is at model call \(shared.stepIndex), the response claims k = \(handOff.completedSteps)")
            }
            let latents = Tensor(shape: handOff.latent.shape, scalars: handOff.latent.scalars)
            if let own = settings.deviceSampler {
                let scheduler = try handedOver(to: own, after: handOff, serverKind: serverKind, steps: settings.steps)
                return (DenoisingTrajectory(latents: latents, scheduler: scheduler, generator: generator), own.guidanceScale)
            }
            var scheduler = try serverKind.makeScheduler(config: models.schedulerConfig, steps: settings.steps)
            let history = handOff.perCandidateState.mapValues { Tensor(shape: $0.shape, scalars: $0.scalars) }
            try scheduler.restore(SchedulerState(kind: shared.kind, steps: shared.steps, stepIndex: shared.stepIndex,
                                                 counters: shared.counters, tensors: history))
            return (DenoisingTrajectory(latents: latents, scheduler: scheduler, generator: generator), settings.guidanceScale)
        }
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
