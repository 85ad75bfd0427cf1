import TensorCore

/// DDIM (`DDIMScheduler`, η = 0): deterministic, first order, integer timesteps.
public struct DDIMScheduler: Scheduler {
    public let kind = SchedulerKind.ddim
    public let timesteps: [Double]
    public let initNoiseSigma: Float = 1
    public private(set) var stepIndex = 0

    private let schedule: NoiseSchedule
    private let discreteTimesteps: [Int]
    private let stepRatio: Int
    private let finalAlphaCumprod: Float
    private let prediction: PredictionType
    private let clipRange: Float?
    private let steps: Int

    /// Builds the schedule for `steps` inference steps from a diffusers scheduler config (keys
    /// this class does not read are ignored, missing ones take its diffusers defaults); throws
    /// naming the key for unsupported or malformed options.
    public init(config: SchedulerConfig, steps: Int) throws {
        try config.requireOff("thresholding")
        schedule = try NoiseSchedule(config: config)
        let trainSteps = schedule.trainSteps
        try validateStepCount(steps, trainSteps: trainSteps)
        self.steps = steps
        prediction = try PredictionType(config: config)
        clipRange = try config.bool("clip_sample", default: true) ? Float(try config.double("clip_sample_range", default: 1)) : nil
        finalAlphaCumprod = try config.bool("set_alpha_to_one", default: true) ? 1 : schedule.alphasCumprod[0]
        let spacing = try TimestepSpacing(config: config, default: .leading)
        discreteTimesteps = spacing.discreteTimesteps(steps: steps, trainSteps: schedule.trainSteps,
                                                      offset: try config.int("steps_offset", default: 0))
        guard discreteTimesteps.allSatisfy({ (0..<trainSteps).contains($0) }) else {
            throw SchedulerError.invalidConfigValue(file: config.source, key: "steps_offset", reason: "puts timesteps outside the training range")
        }
        timesteps = discreteTimesteps.map(Double.init)
        stepRatio = schedule.trainSteps / steps
    }

    public func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor { sample }

    public mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor {
        precondition(stepIndex < discreteTimesteps.count, "DDIM: step called after the last timestep")
        let t = discreteTimesteps[stepIndex]
        let previous = t - stepRatio
        let alphaProd = schedule.alphasCumprod[t]
        let alphaProdPrevious = previous >= 0 ? schedule.alphasCumprod[previous] : finalAlphaCumprod
        let betaProd = 1 - alphaProd
        let sqrtAlpha = alphaProd.squareRoot(), sqrtBeta = betaProd.squareRoot()

        var original: Tensor
        let epsilon: Tensor
        switch prediction {
        case .epsilon:
            original = LatentArithmetic.map(sample, modelOutput) { x, e in (x - sqrtBeta * e) / sqrtAlpha }
            epsilon = modelOutput
        case .vPrediction:
            original = LatentArithmetic.map(sample, modelOutput) { x, v in sqrtAlpha * x - sqrtBeta * v }
            epsilon = LatentArithmetic.map(sample, modelOutput) { x, v in sqrtAlpha * v + sqrtBeta * x }
        }
        if let range = clipRange {
            original = LatentArithmetic.map(original) { min(max($0, -range), range) }
        }
        // η = 0: no stochastic term, so the direction keeps all of 1 − ᾱ_prev.
        let directionScale = (1 - alphaProdPrevious).squareRoot()
        let sqrtAlphaPrevious = alphaProdPrevious.squareRoot()
        stepIndex += 1
        return LatentArithmetic.map(original, epsilon) { x0, e in sqrtAlphaPrevious * x0 + directionScale * e }
    }

    public var state: SchedulerState { SchedulerState(kind: kind, steps: steps, stepIndex: stepIndex) }

    public mutating func restore(_ state: SchedulerState) throws {
        try state.validate(kind: kind, steps: steps, modelCalls: timesteps.count)
        stepIndex = state.stepIndex
    }
}
