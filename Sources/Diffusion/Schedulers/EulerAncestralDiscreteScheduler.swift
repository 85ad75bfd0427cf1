import TensorCore

/// Euler ancestral (`EulerAncestralDiscreteScheduler`): an Euler step down to σ_down plus fresh
/// noise of scale σ_up, drawn from the generator at every step (the last included, where σ_up = 0).
public struct EulerAncestralDiscreteScheduler: Scheduler {
    public let kind = SchedulerKind.eulerAncestral
    public let timesteps: [Double]
    public let initNoiseSigma: Float
    public private(set) var stepIndex = 0

    /// σ for each model call followed by 0.
    public let sigmas: [Float]
    private let prediction: PredictionType
    private let steps: Int

    /// Builds the schedule for `steps` inference steps from a diffusers scheduler config (keys
    /// this class does not read are ignored, missing ones take its diffusers defaults); throws
    /// naming the key for unsupported or malformed options.
    public init(config: SchedulerConfig, steps: Int) throws {
        let schedule = try NoiseSchedule(config: config)
        try validateStepCount(steps, trainSteps: schedule.trainSteps)
        self.steps = steps
        prediction = try PredictionType(config: config)
        let spacing = try TimestepSpacing(config: config, default: .linspace)
        timesteps = EulerDiscreteScheduler.eulerTimesteps(spacing: spacing, steps: steps, trainSteps: schedule.trainSteps,
                                                          offset: try config.int("steps_offset", default: 0))
        let trainSigmas = schedule.trainSigmas
        sigmas = timesteps.map { Float(SigmaSchedule.interpolate(trainSigmas, at: $0)) } + [0]
        initNoiseSigma = EulerDiscreteScheduler.initialNoiseSigma(sigmas: sigmas, spacing: spacing)
    }

    public func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor {
        let sigma = sigmas[index]
        let denominator = (sigma * sigma + 1).squareRoot()
        return LatentArithmetic.map(sample) { $0 / denominator }
    }

    public mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor {
        precondition(stepIndex < timesteps.count, "Euler ancestral: step called after the last timestep")
        let sigma = sigmas[stepIndex], sigmaTo = sigmas[stepIndex + 1]
        let original = EulerDiscreteScheduler.predictOriginal(modelOutput: modelOutput, sample: sample,
                                                              sigma: sigma, prediction: prediction)
        let sigmaUp = (sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma)).squareRoot()
        let sigmaDown = (sigmaTo * sigmaTo - sigmaUp * sigmaUp).squareRoot()
        let dt = sigmaDown - sigma
        let noise = generator.randn(modelOutput.shape)
        stepIndex += 1
        return LatentArithmetic.map(sample, original, noise) { x, x0, z in (x + ((x - x0) / sigma) * dt) + z * sigmaUp }
    }

    public var state: SchedulerState { SchedulerState(kind: kind, steps: steps, stepIndex: stepIndex) }

    public mutating func restore(_ state: SchedulerState) throws {
        try state.validate(kind: kind, steps: steps, modelCalls: timesteps.count)
        stepIndex = state.stepIndex
    }
}
