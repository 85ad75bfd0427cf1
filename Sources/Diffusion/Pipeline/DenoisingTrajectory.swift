import TensorCore

/// A denoising trajectory in progress — the latents, the sampler state and the noise generator —
/// and the one loop every caller runs on it: `run(calls:stage:progress:)` takes model calls
/// `i..<j` from this state. The in-process pipeline (`Denoiser`), the server's backend (calls
/// `0..<k` for all candidates) and the device (calls `k..<T` after the hand-off) differ only in
/// how they build the trajectory and the stages.
///
/// The batch is stepped either by one scheduler over all rows (diffusers' batched pipeline:
/// stochastic samplers draw different noise per row) or by one scheduler per row that all see
/// the same generator state (`rowSchedulers`): every row then draws the same noise, so each
/// candidate's trajectory is exactly the one it would have alone, and every row's sampler
/// history can be handed off on its own.
public struct DenoisingTrajectory: @unchecked Sendable {
    /// NCHW `[rows, channels, h, w]`.
    public private(set) var latents: Tensor
    /// One scheduler for the whole batch, or one per row.
    public private(set) var schedulers: [any Scheduler]
    /// Supplies the sampler noise of the remaining steps.
    public private(set) var generator: TorchGenerator

    /// A trajectory at the state `scheduler` is in (one scheduler stepping every row).
    public init(latents: Tensor, scheduler: any Scheduler, generator: TorchGenerator) {
        self.latents = latents
        self.schedulers = [scheduler]
        self.generator = generator
    }

    /// A trajectory whose rows are stepped by their own schedulers (`rowSchedulers.count` equal
    /// to the latents' rows, all at the same step) from one shared generator state.
    public init(latents: Tensor, rowSchedulers: [any Scheduler], generator: TorchGenerator) {
        precondition(rowSchedulers.count == latents.shape[0], "one scheduler per latent row")
        precondition(Set(rowSchedulers.map(\.stepIndex)).count == 1, "row schedulers at different steps")
        self.latents = latents
        self.schedulers = rowSchedulers
        self.generator = generator
    }

    /// diffusers' `prepare_latents`: `torch.randn(shape, generator) · init_noise_sigma` from a
    /// generator seeded like `torch.Generator().manual_seed(seed)`.
    public static func fresh(seed: UInt64, shape: [Int], scheduler: any Scheduler) -> DenoisingTrajectory {
        var generator = TorchGenerator(seed: seed)
        let latents = scale(generator.randn(shape), scheduler.initNoiseSigma)
        return DenoisingTrajectory(latents: latents, scheduler: scheduler, generator: generator)
    }

    /// One row of initial noise (`rowShape` `[1, channels, h, w]`) drawn from `seed` and repeated
    /// for every row scheduler, so all rows start from the same latent.
    public static func fresh(seed: UInt64, rowShape: [Int], rowSchedulers: [any Scheduler]) -> DenoisingTrajectory {
        precondition(!rowSchedulers.isEmpty && rowShape.first == 1, "one row of noise for at least one scheduler")
        var generator = TorchGenerator(seed: seed)
        let row = scale(generator.randn(rowShape), rowSchedulers[0].initNoiseSigma)
        return DenoisingTrajectory(latents: concatBatch(Array(repeating: row, count: rowSchedulers.count)),
                                   rowSchedulers: rowSchedulers, generator: generator)
    }

    /// The index of the next model call.
    public var nextCall: Int { schedulers[0].stepIndex }
    /// Model calls of the whole schedule (PNDM makes one more than its inference steps).
    public var callCount: Int { schedulers[0].timesteps.count }

    /// Runs model calls `calls` (starting at `nextCall`, ending at most at `callCount`), each
    /// with the stage `stage(i)` picks, and returns the wall time and FLOPs per phase (the calls'
    /// own; the counts also reach any enclosing `FLOPMeter`).
    ///
    /// Every stage used (one per phase) is validated against the latents before the first call. After each call
    /// `progress` hears `completed: i + 1` of `callCount`; when it returns false the loop throws
    /// `GenerationCancelled`, leaving the trajectory after the last completed call.
    @discardableResult
    public mutating func run(calls: Range<Int>, stage: (Int) -> DenoisingStage,
                             progress: GenerationProgressHandler = { _ in true }) throws -> [PhaseCost] {
        guard calls.lowerBound == nextCall, calls.upperBound <= callCount else {
            throw SchedulerError.invalidHandOff("cannot run model calls \(calls) from call \(nextCall) of \(callCount)")
        }
        let stages = calls.map(stage)
        var validated: [GenerationPhase] = []
        for s in stages where !validated.contains(s.phase) {
            try s.validate(latentShape: latents.shape)
            validated.append(s.phase)
        }
        var costs: [PhaseCost] = []
        for (i, s) in zip(calls, stages) {
            let (_, cost) = try PhaseCost.measuring(s.phase) { try step(call: i, s) }
            costs.accumulate(cost)
            if !progress(GenerationProgress(phase: s.phase, completed: i + 1, total: callCount)) { throw GenerationCancelled(phase: s.phase) }
        }
        return costs
    }

    /// Model call `call` under `stage`, then the sampler update.
    private mutating func step(call: Int, _ stage: DenoisingStage) throws {
        let timestep = schedulers[0].timesteps[call]
        let prediction = try stage.predictNoise(schedulers[0].scaleModelInput(latents, index: call), timestep: timestep, call: call)
        guard schedulers.count > 1 else {
            latents = schedulers[0].step(modelOutput: prediction, sample: latents, generator: &generator)
            return
        }
        let start = generator
        var rows: [Tensor] = []
        for row in schedulers.indices {
            generator = start
            rows.append(schedulers[row].step(modelOutput: prediction.slice(row, 1), sample: latents.slice(row, 1), generator: &generator))
        }
        latents = concatBatch(rows)
    }

    /// For a hand-off: the scheduler state all rows share (step index and counters, no history)
    /// and each history tensor with the rows stacked in order.
    public func handOffState() throws -> (shared: SchedulerState, history: [String: Tensor]) {
        let states = schedulers.map(\.state)
        let first = states[0]
        let shared = SchedulerState(kind: first.kind, steps: first.steps, stepIndex: first.stepIndex, counters: first.counters)
        var history: [String: Tensor] = [:]
        for name in first.tensors.keys {
            let parts = states.compactMap { $0.tensors[name] }
            guard parts.count == states.count, parts.allSatisfy({ $0.shape.first == latents.shape[0] / states.count }) else {
                throw SchedulerError.invalidState("scheduler history '\(name)' is not one block per scheduler")
            }
            history[name] = parts.count == 1 ? parts[0] : concatBatch(parts)
        }
        return (shared, history)
    }
}

extension Array where Element == PhaseCost {
    /// Adds `cost` to the entry of its phase (appending one for a new phase), so phases keep
    /// the order they first ran in.
    mutating func accumulate(_ cost: PhaseCost) {
        if let j = firstIndex(where: { $0.phase == cost.phase }) {
            self[j].seconds += cost.seconds
            self[j].flops += cost.flops
        } else {
            append(cost)
        }
    }
}
