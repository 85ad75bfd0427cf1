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
        let rows = request.candidates.count * (request.guidanceScale > 1 ? 2 : 1)
        let a = request.acceleration
        return models.unet.configuration.activationBytes(rows: rows, height: request.height, width: request.width,
                                                         cachesFeatures: a.cache || a.skip)
    }

    public func generate(_ batch: [GenerationRequest], observer: BatchObserver) async throws -> [GenerationResponse] {
        let first = batch[0]
        let family = first.modelFamily ?? ModelFamily.sd1.rawValue
        guard family == models.family.rawValue else {
            throw RequestError(.invalid, field: "modelFamily", "this server runs the \(models.family.rawValue) family, the request is for '\(family)'")
        }
        let micro = try Self.microConditioning(first)
        let rows = batch.reduce(0) { $0 + $1.candidates.count }
        let kind = try SchedulerKind(name: first.scheduler)
        // Under a count-only meter (`bench flops`) the backend tallies work without arithmetic.
        let meter = FLOPMeter(countOnly: FLOPMeter.isCountOnly)
        // LCM's guidance-embedded UNets take the scale as an embedding, never as CFG (diffusers).
        let guided = first.guidanceScale > 1 && models.unet.configuration.timeCondProjDim == nil
        let models = self.models

        let textStarted = ContinuousClock.now
        let context = try await offPool(meter) { () -> TextConditioning in
            let cond = try models.promptEncoder.encode(batch.flatMap(\.candidates))
            let both = guided
                ? TextConditioning.concatenated([try models.promptEncoder.unconditional(negativePrompt: first.negativePrompt, count: rows, like: cond), cond])
                : cond
            return both.prepared(for: models.unet.configuration, micro: micro, guidanceScale: first.guidanceScale)
        }
        let textSeconds = (ContinuousClock.now - textStarted).seconds

        let denoiseStarted = ContinuousClock.now
        var generator = TorchGenerator(seed: first.seed)
        // One scheduler per row, all stepping with the same generator state: every candidate
        // sees the same noise (initial and, for stochastic samplers, per step), so its trajectory
        // is exactly the one it would have alone, whatever N and its position are.
        var schedulers = try (0..<rows).map { _ in try kind.makeScheduler(config: models.schedulerConfig, steps: first.steps) }
        let calls = schedulers[0].timesteps.count
        guard first.switchStep <= calls else {
            throw RequestError(.invalid, field: "switchStep", "\(first.scheduler) with \(first.steps) steps makes \(calls) model calls, fewer than k = \(first.switchStep)")
        }
        let unet = AcceleratedUNet(
            unet: models.unet, schedule: AccelerationSchedule(first.acceleration),
            reuseGroups: BatchReuseGroup.candidateSets(tokenCounts: batch.map { $0.candidates.map(models.tokenizer.tokens).map(\.count) },
                                                       guided: guided))
        let noise = generator.randn([1, GenerationResponse.latentChannels, first.height / 8, first.width / 8])
        var latents = concatBatch(Array(repeating: scale(noise, schedulers[0].initNoiseSigma), count: rows))
        for index in 0..<first.switchStep {
            try Task.checkCancellation()
            let stepStarted = ContinuousClock.now
            let current = (schedulers, latents, generator)
            (schedulers, latents, generator) = try await offPool(meter) {
                var (schedulers, latents, generator) = current
                let prediction = try guidedNoise(schedulers[0].scaleModelInput(latents, index: index), scale: guided ? first.guidanceScale : nil) {
                    try unet($0, timestep: schedulers[0].timesteps[index], conditioning: context, call: index)
                }
                let start = generator
                var next: [Tensor] = []
                for row in 0..<rows {
                    generator = start
                    next.append(schedulers[row].step(modelOutput: prediction.slice(row, 1), sample: latents.slice(row, 1), generator: &generator))
                }
                latents = concatBatch(next)
                return (schedulers, latents, generator)
            }
            observer.stepCompleted(seconds: (ContinuousClock.now - stepStarted).seconds, candidates: rows)
        }
        let denoiseSeconds = (ContinuousClock.now - denoiseStarted).seconds

        let states = schedulers.map(\.state)
        let shared = SchedulerState(kind: states[0].kind, steps: states[0].steps, stepIndex: states[0].stepIndex, counters: states[0].counters)
        var history: [String: Tensor] = [:]
        for name in states[0].tensors.keys {
            let parts = states.compactMap { $0.tensors[name] }
            guard parts.count == rows, parts.allSatisfy({ $0.shape.first == 1 }) else {
                throw BackendError("scheduler history '\(name)' is not one row per candidate")
            }
            history[name] = concatBatch(parts)
        }
        var responses: [GenerationResponse] = []
        let groupsPerRequest = guided ? 2 : 1
        var offset = 0
        for (number, request) in batch.enumerated() {
            let n = request.candidates.count
            let share = Double(n) / Double(rows)
            let continuation = ContinuationState(
                scheduler: request.scheduler, completedSteps: request.switchStep, totalSteps: request.steps,
                perCandidate: history.mapValues { WireTensor($0.slice(offset, n)) },
                schedulerState: Array(shared.encoded()), generatorState: generator.encoded())
            let accounting = ServerAccounting(
                phaseSeconds: ["textEncoding": textSeconds, "denoising": denoiseSeconds],
                executedMultiplyAdds: Int64((Double(meter.multiplyAdds) * share).rounded()),
                sharedAttentionMaps: unet.sharedAttentionMaps[(number * groupsPerRequest)..<((number + 1) * groupsPerRequest)].reduce(0, +))
            responses.append(GenerationResponse(latents: WireTensor(latents.slice(offset, n)), continuation: continuation,
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
/// (which serves HTTP) is not blocked for the length of a forward pass.
func offPool<T>(_ meter: FLOPMeter, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try meter.measure(body) })
        }
    }
}

/// The backend produced something inconsistent (a bug, not bad input).
struct BackendError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension WireTensor {
    /// The tensor's shape and values, copied.
    init(_ tensor: Tensor) { self.init(shape: tensor.shape, scalars: tensor.scalars) }
}

extension AccelerationSchedule {
    /// The engine's schedule for a request's acceleration knobs.
    init(_ options: AccelerationOptions) {
        self.init(batchReuse: options.reuse, attentionCache: options.cache, blockSkip: options.skip,
                  cachePoint: options.cachePoint, skipPoint: options.skipPoint, refreshInterval: options.refreshInterval)
    }
}
