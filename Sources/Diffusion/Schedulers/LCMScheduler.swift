import TensorCore

/// Latent Consistency Model sampling (`LCMScheduler`): each step jumps to the consistency
/// function's x̂₀ and re-noises it to the next timestep with fresh generator noise (not after the
/// last step).
public struct LCMScheduler: Scheduler {
    public let kind = SchedulerKind.lcm
    public let timesteps: [Double]
    public let initNoiseSigma: Float = 1
    public private(set) var stepIndex = 0

    private let schedule: NoiseSchedule
    private let discreteTimesteps: [Int]
    private let finalAlphaCumprod: Float
    private let prediction: PredictionType
    private let clipRange: Float?
    private let timestepScaling: Double
    private let steps: Int

    /// Builds the schedule for `steps` inference steps from a diffusers scheduler config (keys
    /// this class does not read are ignored, missing ones take its diffusers defaults); throws
    /// naming the key for unsupported or malformed options.
    public init(config: SchedulerConfig, steps: Int) throws {
        try config.requireOff("thresholding")
        schedule = try NoiseSchedule(config: config, defaultBetaStart: 0.00085, defaultBetaEnd: 0.012,
                                     defaultBetaSchedule: "scaled_linear")
        try validateStepCount(steps, trainSteps: schedule.trainSteps)
        self.steps = steps
        prediction = try PredictionType(config: config)
        clipRange = try config.bool("clip_sample", default: false) ? Float(try config.double("clip_sample_range", default: 1)) : nil
        finalAlphaCumprod = try config.bool("set_alpha_to_one", default: true) ? 1 : schedule.alphasCumprod[0]
        timestepScaling = try config.double("timestep_scaling", default: 10)
        let originalSteps = try config.int("original_inference_steps", default: 50)
        guard originalSteps >= 1, originalSteps <= schedule.trainSteps else {
            throw SchedulerError.invalidConfigValue(file: config.source, key: "original_inference_steps",
                                                    reason: "must be in 1...\(schedule.trainSteps)")
        }
        let k = schedule.trainSteps / originalSteps
        let origin = (1...originalSteps).map { $0 * k - 1 }.reversed() as [Int]
        guard steps <= originalSteps else {
            throw SchedulerError.invalidStepCount(steps, reason: "LCM allows at most original_inference_steps (\(originalSteps))")
        }
        let indices = TimestepSpacing.numpyLinspace(0, Double(origin.count), steps, endpoint: false).map { Int($0.rounded(.down)) }
        discreteTimesteps = indices.map { origin[$0] }
        timesteps = discreteTimesteps.map(Double.init)
    }

    public func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor { sample }

    public mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor {
        precondition(stepIndex < discreteTimesteps.count, "LCM: step called after the last timestep")
        let t = discreteTimesteps[stepIndex]
        let previous = stepIndex + 1 < discreteTimesteps.count ? discreteTimesteps[stepIndex + 1] : t
        let alphaProd = schedule.alphasCumprod[t]
        let alphaProdPrevious = previous >= 0 ? schedule.alphasCumprod[previous] : finalAlphaCumprod
        let sqrtAlpha = alphaProd.squareRoot(), sqrtBeta = (1 - alphaProd).squareRoot()

        // Boundary-condition scalings c_skip, c_out (σ_data = 0.5), in double like diffusers.
        let scaled = Double(t) * timestepScaling
        let cSkip = Float(0.25 / (scaled * scaled + 0.25))
        let cOut = Float(scaled / (scaled * scaled + 0.25).squareRoot())

        var original: Tensor
        switch prediction {
        case .epsilon:
            original = LatentArithmetic.map(sample, modelOutput) { x, e in (x - sqrtBeta * e) / sqrtAlpha }
        case .vPrediction:
            original = LatentArithmetic.map(sample, modelOutput) { x, v in sqrtAlpha * x - sqrtBeta * v }
        }
        if let range = clipRange {
            original = LatentArithmetic.map(original) { min(max($0, -range), range) }
        }
        let denoised = LatentArithmetic.map(original, sample) { x0, x in cOut * x0 + cSkip * x }
        let isLast = stepIndex == discreteTimesteps.count - 1
        stepIndex += 1
        if isLast { return denoised }
        let noise = generator.randn(modelOutput.shape)
        let a = alphaProdPrevious.squareRoot(), b = (1 - alphaProdPrevious).squareRoot()
        return LatentArithmetic.map(denoised, noise) { d, z in a * d + b * z }
    }

    public var state: SchedulerState { SchedulerState(kind: kind, steps: steps, stepIndex: stepIndex) }

    public mutating func restore(_ state: SchedulerState) throws {
        try state.validate(kind: kind, steps: steps, modelCalls: timesteps.count)
        stepIndex = state.stepIndex
    }
}
