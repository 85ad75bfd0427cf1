import Foundation
import TensorCore

/// Euler's method in σ-space (`EulerDiscreteScheduler`, `s_churn` 0): fractional timesteps,
/// latents scaled by σ_max (or √(σ_max²+1) with leading spacing), optional Karras σ.
public struct EulerDiscreteScheduler: Scheduler {
    public let kind = SchedulerKind.euler
    public let timesteps: [Double]
    public let initNoiseSigma: Float
    public private(set) var stepIndex = 0

    /// σ for each model call followed by the final σ (N + 1 values, float32 like diffusers).
    public let sigmas: [Float]
    private let prediction: PredictionType
    private let steps: Int

    /// Builds the schedule for `steps` inference steps from a diffusers scheduler config (keys
    /// this class does not read are ignored, missing ones take its diffusers defaults); throws
    /// naming the key for unsupported or malformed options.
    public init(config: SchedulerConfig, steps: Int) throws {
        try config.requireOff("use_exponential_sigmas", "use_beta_sigmas")
        let schedule = try NoiseSchedule(config: config)
        try validateStepCount(steps, trainSteps: schedule.trainSteps)
        self.steps = steps
        prediction = try PredictionType(config: config)
        _ = try config.choice("interpolation_type", default: "linear", allowed: ["linear"])
        _ = try config.choice("timestep_type", default: "discrete", allowed: ["discrete"])
        let spacing = try TimestepSpacing(config: config, default: .linspace)
        let trainSigmas = schedule.trainSigmas
        var times = Self.eulerTimesteps(spacing: spacing, steps: steps, trainSteps: schedule.trainSteps,
                                        offset: try config.int("steps_offset", default: 0))
        var sigmaValues = times.map { SigmaSchedule.interpolate(trainSigmas, at: $0) }
        if try config.bool("use_karras_sigmas", default: false) {
            sigmaValues = SigmaSchedule.karras(sigmaMin: try config.double("sigma_min", default: sigmaValues.last!),
                                               sigmaMax: try config.double("sigma_max", default: sigmaValues.first!),
                                               count: steps)
            let logSigmas = trainSigmas.map { logf($0) }
            times = sigmaValues.map { Double(Float(SigmaSchedule.timestep(forSigma: $0, logSigmas: logSigmas))) }
        }
        let finalSigma: Float
        switch try config.choice("final_sigmas_type", default: "zero", allowed: ["zero", "sigma_min"]) {
        case "zero": finalSigma = 0
        default: finalSigma = ((1 - schedule.alphasCumprod[0]) / schedule.alphasCumprod[0]).squareRoot()
        }
        sigmas = sigmaValues.map { Float($0) } + [finalSigma]
        timesteps = times
        initNoiseSigma = Self.initialNoiseSigma(sigmas: sigmas, spacing: spacing)
    }

    /// Float32 timesteps of the Euler family: linspace(0, T−1, N) reversed, leading
    /// arange(N)·(T//N) + offset reversed, or trailing round(arange(T, 0, −T/N)) − 1.
    static func eulerTimesteps(spacing: TimestepSpacing, steps: Int, trainSteps: Int, offset: Int) -> [Double] {
        switch spacing {
        case .linspace:
            return TimestepSpacing.numpyLinspace(0, Double(trainSteps - 1), steps).map { Double(Float($0)) }.reversed()
        case .leading, .trailing:
            return spacing.discreteTimesteps(steps: steps, trainSteps: trainSteps, offset: offset).map(Double.init)
        }
    }

    /// σ_max for linspace/trailing spacing, √(σ_max² + 1) for leading (float32 arithmetic).
    static func initialNoiseSigma(sigmas: [Float], spacing: TimestepSpacing) -> Float {
        let maximum = sigmas.max()!
        return spacing == .leading ? (maximum * maximum + 1).squareRoot() : maximum
    }

    public func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor {
        let sigma = sigmas[index]
        let denominator = (sigma * sigma + 1).squareRoot()
        return LatentArithmetic.map(sample) { $0 / denominator }
    }

    public mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor {
        precondition(stepIndex < timesteps.count, "Euler: step called after the last timestep")
        let sigma = sigmas[stepIndex]
        let original = Self.predictOriginal(modelOutput: modelOutput, sample: sample, sigma: sigma, prediction: prediction)
        let dt = sigmas[stepIndex + 1] - sigma
        stepIndex += 1
        return LatentArithmetic.map(sample, original) { x, x0 in x + ((x - x0) / sigma) * dt }
    }

    /// x̂₀ from the model output at σ (ε: x − σε; v: −σ/√(σ²+1)·v + x/(σ²+1)).
    static func predictOriginal(modelOutput: Tensor, sample: Tensor, sigma: Float, prediction: PredictionType) -> Tensor {
        switch prediction {
        case .epsilon:
            return LatentArithmetic.map(sample, modelOutput) { x, e in x - sigma * e }
        case .vPrediction:
            let outputScale = -sigma / (sigma * sigma + 1).squareRoot()
            let sampleDivisor = sigma * sigma + 1
            return LatentArithmetic.map(modelOutput, sample) { v, x in v * outputScale + x / sampleDivisor }
        }
    }

    public var state: SchedulerState { SchedulerState(kind: kind, steps: steps, stepIndex: stepIndex) }

    public mutating func restore(_ state: SchedulerState) throws {
        try state.validate(kind: kind, steps: steps, modelCalls: timesteps.count)
        stepIndex = state.stepIndex
    }
}
