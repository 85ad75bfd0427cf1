import TensorCore

/// PNDM in its PLMS form (`PNDMScheduler` with `skip_prk_steps: true`, as in SD1.x's config):
/// linear multistep on ε with a Heun-like warm-up, so T steps make T + 1 model calls.
public struct PNDMScheduler: Scheduler {
    public let kind = SchedulerKind.pndm
    public let timesteps: [Double]
    public let initNoiseSigma: Float = 1
    /// diffusers' `counter`: the number of `step` calls so far.
    public private(set) var stepIndex = 0

    private let schedule: NoiseSchedule
    private let plmsTimesteps: [Int]
    private let stepRatio: Int
    private let finalAlphaCumprod: Float
    private let prediction: PredictionType
    private let steps: Int
    /// Past ε (at most four, newest last), diffusers' `ets`.
    private var pastEpsilons: [Tensor] = []
    /// The sample stored by the first step and reused by the second (`cur_sample`).
    private var storedSample: Tensor?

    /// Builds the schedule for `steps` inference steps from a diffusers scheduler config (keys
    /// this class does not read are ignored, missing ones take its diffusers defaults); throws
    /// naming the key for unsupported or malformed options.
    public init(config: SchedulerConfig, steps: Int) throws {
        guard try config.bool("skip_prk_steps", default: false) else {
            throw SchedulerError.unsupportedOption(file: config.source, key: "skip_prk_steps",
                                                   value: "false (PNDM's Runge–Kutta warm-up; obclip runs PLMS only)")
        }
        schedule = try NoiseSchedule(config: config)
        let trainSteps = schedule.trainSteps
        try validateStepCount(steps, trainSteps: trainSteps)
        guard steps >= 2 else { throw SchedulerError.invalidStepCount(steps, reason: "PNDM needs at least 2 steps") }
        self.steps = steps
        prediction = try PredictionType(config: config)
        finalAlphaCumprod = try config.bool("set_alpha_to_one", default: false) ? 1 : schedule.alphasCumprod[0]
        let spacing = try TimestepSpacing(config: config, default: .leading)
        let ascending = Array(spacing.discreteTimesteps(steps: steps, trainSteps: schedule.trainSteps,
                                                        offset: try config.int("steps_offset", default: 0)).reversed())
        guard ascending.allSatisfy({ (0..<trainSteps).contains($0) }) else {
            throw SchedulerError.invalidConfigValue(file: config.source, key: "steps_offset", reason: "puts timesteps outside the training range")
        }
        // concat(ts[:-1], ts[-2], ts[-1]) reversed: the second-to-last timestep is visited twice.
        plmsTimesteps = (ascending.dropLast() + [ascending[ascending.count - 2], ascending[ascending.count - 1]]).reversed()
        timesteps = plmsTimesteps.map(Double.init)
        stepRatio = schedule.trainSteps / steps
    }

    public func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor { sample }

    public mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor {
        precondition(stepIndex < plmsTimesteps.count, "PNDM: step called after the last timestep")
        var timestep = plmsTimesteps[stepIndex]
        var previous = timestep - stepRatio
        if stepIndex != 1 {
            pastEpsilons = Array(pastEpsilons.suffix(3)) + [modelOutput]
        } else {
            previous = timestep
            timestep += stepRatio
        }
        var input = sample
        let epsilon: Tensor
        let e = pastEpsilons
        switch (e.count, stepIndex) {
        case (1, 0):
            epsilon = modelOutput
            storedSample = sample
        case (1, 1):
            epsilon = LatentArithmetic.map(modelOutput, e[0]) { a, b in (a + b) / 2 }
            input = storedSample!
            storedSample = nil
        case (2, _):
            epsilon = LatentArithmetic.map(e[1], e[0]) { a, b in (3 * a - b) / 2 }
        case (3, _):
            epsilon = LatentArithmetic.map(e[2], e[1], e[0]) { a, b, c in (23 * a - 16 * b + 5 * c) / 12 }
        default:
            let scale = Float(1.0 / 24.0)
            epsilon = LatentArithmetic.map(e[3], e[2], e[1], e[0]) { a, b, c, d in
                scale * (55 * a - 59 * b + 37 * c - 9 * d)
            }
        }
        stepIndex += 1
        return previousSample(input, timestep: timestep, previous: previous, modelOutput: epsilon)
    }

    /// PNDM's transfer `_get_prev_sample` (formula (9) of the PNDM paper).
    private func previousSample(_ sample: Tensor, timestep: Int, previous: Int, modelOutput: Tensor) -> Tensor {
        let alphaProd = schedule.alphasCumprod[timestep]
        let alphaProdPrevious = previous >= 0 ? schedule.alphasCumprod[previous] : finalAlphaCumprod
        let betaProd = 1 - alphaProd
        let betaProdPrevious = 1 - alphaProdPrevious
        var epsilon = modelOutput
        if prediction == .vPrediction {
            let a = alphaProd.squareRoot(), b = betaProd.squareRoot()
            epsilon = LatentArithmetic.map(modelOutput, sample) { v, x in a * v + b * x }
        }
        let sampleCoefficient = (alphaProdPrevious / alphaProd).squareRoot()
        let denominator = alphaProd * betaProdPrevious.squareRoot() + (alphaProd * betaProd * alphaProdPrevious).squareRoot()
        let difference = alphaProdPrevious - alphaProd
        return LatentArithmetic.map(sample, epsilon) { x, e in sampleCoefficient * x - (difference * e) / denominator }
    }

    public var state: SchedulerState {
        var tensors: [String: Tensor] = [:]
        for (i, epsilon) in pastEpsilons.enumerated() { tensors["ets.\(i)"] = epsilon.copy() }
        if let stored = storedSample { tensors["cur_sample"] = stored.copy() }
        return SchedulerState(kind: kind, steps: steps, stepIndex: stepIndex, tensors: tensors)
    }

    public mutating func restore(_ state: SchedulerState) throws {
        try state.validate(kind: kind, steps: steps, modelCalls: timesteps.count)
        // After step k (k ≥ 1) the history holds min(k, 4) ε, except that step 1 adds none.
        let k = state.stepIndex
        let expected = k == 0 ? 0 : min(k == 1 ? 1 : k - 1, 4)
        let names = (0..<expected).map { "ets.\($0)" }
        let extra = Set(state.tensors.keys).subtracting(names + (k == 1 ? ["cur_sample"] : []))
        guard extra.isEmpty else { throw SchedulerError.invalidState("unexpected tensors \(extra.sorted()) for PNDM") }
        let epsilons = try names.map { try state.tensor($0) }
        let stored = k == 1 ? try state.tensor("cur_sample") : nil
        if let shape = epsilons.first?.shape, !(epsilons.allSatisfy { $0.shape == shape } && (stored?.shape ?? shape) == shape) {
            throw SchedulerError.invalidState("PNDM history tensors have different shapes")
        }
        pastEpsilons = epsilons.map { $0.copy() }
        storedSample = stored?.copy()
        stepIndex = k
    }
}
