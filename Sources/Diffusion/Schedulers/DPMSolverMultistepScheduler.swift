import Foundation
import TensorCore

/// DPM-Solver++ multistep (`DPMSolverMultistepScheduler` with `algorithm_type: dpmsolver++`,
/// order 1 or 2, midpoint or Heun second-order rule): the method's default sampler.
///
/// Works on data predictions x̂₀; the second-order update needs the previous x̂₀, which is the
/// history carried in `state`. The first step is first order (warm-up) and so is the last whenever
/// the final σ is zero or, with `lower_order_final`, when there are fewer than 15 steps.
public struct DPMSolverMultistepScheduler: Scheduler {
    public let kind = SchedulerKind.dpmSolverPlusPlus2M
    public let timesteps: [Double]
    public let initNoiseSigma: Float = 1
    public private(set) var stepIndex = 0

    /// σ for each model call followed by the final σ.
    public let sigmas: [Float]
    private let prediction: PredictionType
    private let solverOrder: Int
    private let heun: Bool
    private let lowerOrderFinal: Bool
    private let eulerAtFinal: Bool
    private let finalSigmaIsZero: Bool
    private let steps: Int
    /// Steps taken at lower order so far (diffusers' `lower_order_nums`, capped at the order).
    private var lowerOrderCount = 0
    /// The x̂₀ of the previous step (diffusers' `model_outputs[-1]` between steps).
    private var previousOriginal: Tensor?

    /// Builds the schedule for `steps` inference steps from a diffusers scheduler config (keys
    /// this class does not read are ignored, missing ones take its diffusers defaults); throws
    /// naming the key for unsupported or malformed options.
    public init(config: SchedulerConfig, steps: Int) throws {
        try config.requireOff("thresholding", "use_exponential_sigmas", "use_beta_sigmas", "use_lu_lambdas",
                              "use_flow_sigmas", "use_dynamic_shifting")
        _ = try config.choice("algorithm_type", default: "dpmsolver++", allowed: ["dpmsolver++"])
        let schedule = try NoiseSchedule(config: config)
        try validateStepCount(steps, trainSteps: schedule.trainSteps)
        self.steps = steps
        prediction = try PredictionType(config: config)
        solverOrder = try config.int("solver_order", default: 2)
        guard solverOrder == 1 || solverOrder == 2 else {
            throw SchedulerError.unsupportedOption(file: config.source, key: "solver_order", value: "\(solverOrder) (obclip implements 1 and 2)")
        }
        heun = try config.choice("solver_type", default: "midpoint", allowed: ["midpoint", "heun"]) == "heun"
        lowerOrderFinal = try config.bool("lower_order_final", default: true)
        eulerAtFinal = try config.bool("euler_at_final", default: false)
        if try config.double("lambda_min_clipped", default: -.infinity) != -.infinity {
            throw SchedulerError.unsupportedOption(file: config.source, key: "lambda_min_clipped", value: "finite")
        }
        if (try config.string("variance_type", default: "")) != "" {
            throw SchedulerError.unsupportedOption(file: config.source, key: "variance_type", value: try config.string("variance_type", default: ""))
        }

        let trainSteps = schedule.trainSteps
        let offset = try config.int("steps_offset", default: 0)
        var times: [Double]
        switch try TimestepSpacing(config: config, default: .linspace) {
        case .linspace:
            times = TimestepSpacing.numpyLinspace(0, Double(trainSteps - 1), steps + 1)
                .map { $0.rounded(.toNearestOrEven) }.reversed().dropLast()
        case .leading:
            let ratio = trainSteps / (steps + 1)
            times = (0...steps).map { Double($0 * ratio + offset) }.reversed().dropLast()
        case .trailing:
            times = TimestepSpacing.numpyArangeDown(from: Double(trainSteps), by: Double(trainSteps) / Double(steps))
                .map { $0.rounded(.toNearestOrEven) - 1 }
        }
        let trainSigmas = schedule.trainSigmas
        var sigmaValues: [Double]
        if try config.bool("use_karras_sigmas", default: false) {
            sigmaValues = SigmaSchedule.karras(sigmaMin: try config.double("sigma_min", default: Double(trainSigmas.first!)),
                                               sigmaMax: try config.double("sigma_max", default: Double(trainSigmas.last!)),
                                               count: steps)
            let logSigmas = trainSigmas.map { logf($0) }
            let cosine = try config.string("beta_schedule", default: "linear") == "squaredcos_cap_v2"
            times = sigmaValues.map {
                let t = SigmaSchedule.timestep(forSigma: $0, logSigmas: logSigmas)
                return cosine ? t.rounded(.down) : t.rounded(.toNearestOrEven)
            }
        } else {
            sigmaValues = times.map { SigmaSchedule.interpolate(trainSigmas, at: $0) }
        }
        guard times.allSatisfy({ $0 >= 0 && $0 < Double(trainSteps) }) else {
            throw SchedulerError.invalidConfigValue(file: config.source, key: "steps_offset", reason: "puts timesteps outside the training range")
        }
        let finalSigma: Float
        switch try config.choice("final_sigmas_type", default: "zero", allowed: ["zero", "sigma_min"]) {
        case "zero": finalSigma = 0
        default: finalSigma = ((1 - schedule.alphasCumprod[0]) / schedule.alphasCumprod[0]).squareRoot()
        }
        finalSigmaIsZero = finalSigma == 0
        sigmas = sigmaValues.map { Float($0) } + [finalSigma]
        timesteps = times
    }

    public func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor { sample }

    /// (α_t, σ_t) = (1/√(σ²+1), σ·α_t) in float32.
    private static func alphaSigma(_ sigma: Float) -> (alpha: Float, sigma: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        return (alpha, sigma * alpha)
    }

    private static func lambda(_ pair: (alpha: Float, sigma: Float)) -> Float { logf(pair.alpha) - logf(pair.sigma) }

    public mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor {
        let n = timesteps.count
        precondition(stepIndex < n, "DPM-Solver++: step called after the last timestep")
        // diffusers' `lower_order_second` only matters for order 3, which is not supported.
        let useLowerOrderFinal = stepIndex == n - 1 && (eulerAtFinal || (lowerOrderFinal && n < 15) || finalSigmaIsZero)

        let current = Self.alphaSigma(sigmas[stepIndex])
        let original: Tensor
        switch prediction {
        case .epsilon:
            original = LatentArithmetic.map(sample, modelOutput) { x, e in (x - current.sigma * e) / current.alpha }
        case .vPrediction:
            original = LatentArithmetic.map(sample, modelOutput) { x, v in current.alpha * x - current.sigma * v }
        }

        let target = Self.alphaSigma(sigmas[stepIndex + 1])
        let h = Self.lambda(target) - Self.lambda(current)
        let sampleScale = target.sigma / current.sigma
        let expMinusHMinusOne = expf(-h) - 1
        let firstOrderScale = target.alpha * expMinusHMinusOne
        let result: Tensor
        if solverOrder == 1 || lowerOrderCount < 1 || useLowerOrderFinal || previousOriginal == nil {
            result = LatentArithmetic.map(sample, original) { x, x0 in sampleScale * x - firstOrderScale * x0 }
        } else {
            let previous = Self.alphaSigma(sigmas[stepIndex - 1])
            let h0 = Self.lambda(current) - Self.lambda(previous)
            let inverseR0 = 1 / (h0 / h)
            let correctionScale = heun ? target.alpha * (expMinusHMinusOne / h + 1) : 0.5 * (target.alpha * expMinusHMinusOne)
            let heun = self.heun
            result = LatentArithmetic.map(sample, original, previousOriginal!) { x, m0, m1 in
                let d1 = inverseR0 * (m0 - m1)
                return heun ? (sampleScale * x - firstOrderScale * m0) + correctionScale * d1
                    : (sampleScale * x - firstOrderScale * m0) - correctionScale * d1
            }
        }
        previousOriginal = original
        if lowerOrderCount < solverOrder { lowerOrderCount += 1 }
        stepIndex += 1
        return result
    }

    public var state: SchedulerState {
        var tensors: [String: Tensor] = [:]
        if let previous = previousOriginal { tensors["model_output"] = previous.copy() }
        return SchedulerState(kind: kind, steps: steps, stepIndex: stepIndex,
                              counters: ["lower_order_nums": lowerOrderCount], tensors: tensors)
    }

    /// A first-order warm-up step at `index`, as diffusers does when it starts a multistep
    /// solver mid-schedule (`lower_order_nums` 0, no previous x̂₀).
    public mutating func begin(at index: Int) throws {
        guard (0..<timesteps.count).contains(index) else {
            throw SchedulerError.invalidHandOff("start step \(index) is outside 0..<\(timesteps.count)")
        }
        stepIndex = index
        lowerOrderCount = 0
        previousOriginal = nil
    }

    public mutating func restore(_ state: SchedulerState) throws {
        try state.validate(kind: kind, steps: steps, modelCalls: timesteps.count)
        guard let count = state.counters["lower_order_nums"], (0...solverOrder).contains(count) else {
            throw SchedulerError.invalidState("DPM-Solver++ needs lower_order_nums in 0...\(solverOrder)")
        }
        guard Set(state.tensors.keys).isSubset(of: ["model_output"]) else {
            throw SchedulerError.invalidState("unexpected tensors \(state.tensors.keys.sorted()) for DPM-Solver++")
        }
        previousOriginal = state.stepIndex > 0 ? try state.tensor("model_output").copy() : nil
        lowerOrderCount = count
        stepIndex = state.stepIndex
    }
}
