import Diffusion
import Foundation
import TensorCore
import WireProtocol

/// The real backend: the server half of Algorithm 1 (lines 3–5) on `ServerModels`.
///
/// For a batch of compatible requests (one seed, T, k, scheduler, guidance, negative prompt and
/// size) it encodes every candidate of every request, draws ONE initial noise tensor from the
/// seed with `TorchGenerator` (diffusers' `torch.randn` stream) and repeats it for all rows, then
/// runs model calls `0..<k` with classifier-free guidance as one batched UNet call per step.
/// Stochastic samplers' per-step noise is shared the same way, so each candidate's latent is
/// exactly what a single-prompt run of that candidate would give (and the generator state handed
/// to the device is the same for every candidate).
/// Each request gets its rows of the latents and of the scheduler history, the shared scheduler
/// counters, the generator state, and its share of the executed FLOPs.
///
/// The request's accelerations (batch reuse, attention cache, block skip) run through
/// `AcceleratedUNet`; each candidate set is its own reuse group, pivot first.
///
/// Model work runs on a dispatch queue, not the Swift cooperative pool, so HTTP handling stays
/// responsive; cancellation is checked between model calls.
public struct ModelBackend: GenerationBackend {
    public let models: ServerModels
    public let knownSchedulers: Set<String> = Set(SchedulerKind.allCases.map(\.rawValue))

    public init(models: ServerModels) { self.models = models }

    public func tokenCount(of prompt: String, stoppingAbove limit: Int) -> Int {
        models.tokenizer.tokenCount(prompt, stoppingAbove: limit - 2) + 2
    }

    public func estimatedMemoryBytes(for request: GenerationRequest) -> Int {
        // Guidance doubles the rows only where the UNet runs it: LCM's guidance-embedded UNets
        // take the scale as an embedding and run each candidate once.
        let configuration = models.unet.configuration
        let rows = request.candidates.count * (configuration.usesClassifierFreeGuidance(scale: request.guidanceScale) ? 2 : 1)
        let a = request.acceleration
        return configuration.memoryBytes(rows: rows, height: request.height, width: request.width,
                                                     attentionCache: a.cache, blockSkip: a.skip, precision: models.unet.precision)
    }

    public func generate(_ batch: [GenerationRequest], observer: BatchObserver) async throws -> [GenerationResponse] {
        let first = batch[0]
        let models = self.models
        let family = first.modelFamily ?? ModelFamily.sd1.rawValue
        guard family == models.family.rawValue else {
            throw RequestError(.invalid, field: "modelFamily", "this server runs the \(models.family.rawValue) family, the request is for '\(family)'")
        }
        let micro = try Self.microConditioning(first)
        let rows = batch.reduce(0) { $0 + $1.candidates.count }
        let kind = try SchedulerKind(name: first.scheduler)
        // One scheduler per row, all stepping with the same generator state: every candidate
        // sees the same noise (initial and, for stochastic samplers, per step), so its trajectory
        // is exactly the one it would have alone, whatever N and its position are.
        let schedulers = try (0..<rows).map { _ in try kind.makeScheduler(config: models.schedulerConfig, steps: first.steps) }
        let calls = schedulers[0].timesteps.count
        guard first.switchStep <= calls else {
            throw RequestError(.invalid, field: "switchStep", "\(first.scheduler) with \(first.steps) steps makes \(calls) model calls, fewer than k = \(first.switchStep)")
        }
        // Under a count-only meter (`bench flops`) the backend tallies work without arithmetic.
        let meter = FLOPMeter(countOnly: FLOPMeter.isCountOnly)
        let guided = models.unet.configuration.usesClassifierFreeGuidance(scale: first.guidanceScale)
        let unet = AcceleratedUNet(
            unet: models.unet, schedule: first.acceleration,
            reuseGroups: BatchReuseGroup.candidateSets(tokenCounts: batch.map { $0.candidates.map(models.tokenizer.tokens).map(\.count) },
                                                       guided: guided))

        let textStarted = ContinuousClock.now
        let stage = try await offPool(meter) { _ in
            let positive = try models.promptEncoder.encode(batch.flatMap(\.candidates))
            return try DenoisingStage(model: unet, positive: positive, negative: {
                try models.promptEncoder.unconditional(negativePrompt: first.negativePrompt, count: rows, like: positive)
            }, micro: micro, guidanceScale: first.guidanceScale)
        }
        let textSeconds = (ContinuousClock.now - textStarted).seconds

        let denoiseStarted = ContinuousClock.now
        let trajectory = try await offPool(meter) { isCancelled in
            var trajectory = DenoisingTrajectory.fresh(seed: first.seed, rowShape: [1, GenerationResponse.latentChannels, first.height / 8, first.width / 8],
                                                       rowSchedulers: schedulers)
            var stepStarted = ContinuousClock.now
            try trajectory.run(calls: 0..<first.switchStep, stage: { _ in stage }) { _ in
                observer.stepCompleted(seconds: (ContinuousClock.now - stepStarted).seconds, candidates: rows)
                stepStarted = ContinuousClock.now
                return !isCancelled()
            }
            return trajectory
        }
        let denoiseSeconds = (ContinuousClock.now - denoiseStarted).seconds
        return try Self.responses(batch, trajectory: trajectory, sharedAttentionMaps: unet.sharedAttentionMaps, guided: guided,
                                  executedMultiplyAdds: meter.multiplyAdds,
                                  phaseSeconds: ["textEncoding": textSeconds, "denoising": denoiseSeconds])
    }

    /// Splits the batch's trajectory into one response per request: its rows of the latents and
    /// of the scheduler history, the shared scheduler counters and generator state, and its
    /// share (by rows) of the executed work.
    private static func responses(_ batch: [GenerationRequest], trajectory: DenoisingTrajectory, sharedAttentionMaps: [Int],
                                  guided: Bool, executedMultiplyAdds: Int, phaseSeconds: [String: Double]) throws -> [GenerationResponse] {
        let (shared, history) = try trajectory.handOffState()
        let rows = trajectory.latents.shape[0]
        let groupsPerRequest = guided ? 2 : 1
        var responses: [GenerationResponse] = []
        var offset = 0
        for (number, request) in batch.enumerated() {
            let n = request.candidates.count
            let share = Double(n) / Double(rows)
            let continuation = ContinuationState(
                scheduler: request.scheduler, completedSteps: request.switchStep, totalSteps: request.steps,
                perCandidate: history.mapValues { WireTensor($0.slice(offset, n)) },
                schedulerState: Array(shared.encoded()), generatorState: trajectory.generator.encoded())
            let accounting = ServerAccounting(
                phaseSeconds: phaseSeconds,
                executedMultiplyAdds: Int64((Double(executedMultiplyAdds) * share).rounded()),
                sharedAttentionMaps: sharedAttentionMaps[(number * groupsPerRequest)..<((number + 1) * groupsPerRequest)].reduce(0, +))
            responses.append(GenerationResponse(latents: WireTensor(trajectory.latents.slice(offset, n)), continuation: continuation,
                                                accounting: accounting))
            offset += n
        }
        return responses
    }
}

extension ModelBackend {
    /// The request's SDXL micro-conditioning, each absent part taking the pipeline's default.
    static func microConditioning(_ request: GenerationRequest) throws -> MicroConditioning {
        func pair(_ value: [Int]?, _ field: String, default fallback: [Int]) throws -> [Int] {
            guard let value else { return fallback }
            guard value.count == 2, value.allSatisfy({ (0...65536).contains($0) }) else {
                throw RequestError(.invalid, field: field, "must be two integers in 0...65536, got \(value)")
            }
            return value
        }
        let size = [request.height, request.width]
        let original = try pair(request.originalSize, "originalSize", default: size)
        let crop = try pair(request.cropTopLeft, "cropTopLeft", default: [0, 0])
        let target = try pair(request.targetSize, "targetSize", default: size)
        return MicroConditioning(originalHeight: original[0], originalWidth: original[1], cropTop: crop[0], cropLeft: crop[1],
                                 targetHeight: target[0], targetWidth: target[1])
    }
}

/// Runs blocking model work on a global dispatch queue under `meter`, so the cooperative pool
/// (which serves HTTP) is not blocked for the length of a forward pass. `body` is handed a check
/// for the calling task's cancellation; a body that stops on it with `GenerationCancelled`
/// surfaces as `CancellationError`, as the backend contract asks.
func offPool<T>(_ meter: FLOPMeter, _ body: @escaping @Sendable (_ isCancelled: @escaping @Sendable () -> Bool) throws -> T) async throws -> T {
    try Task.checkCancellation()
    let flag = CancellationFlag()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result {
                    do {
                        return try meter.measure { try body(flag.isSet) }
                    } catch is GenerationCancelled where flag.isSet() {
                        throw CancellationError()
                    }
                })
            }
        }
    } onCancel: {
        flag.set()
    }
}

/// Set once from a task's cancellation handler, read from a dispatch thread.
private final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    @Sendable func isSet() -> Bool { lock.withLock { value } }
}

extension WireTensor {
    /// The tensor's shape and values, copied.
    init(_ tensor: Tensor) { self.init(shape: tensor.shape, scalars: tensor.scalars) }
}
