import TensorCore

/// A diffusion sampler: the timesteps of the model calls and the update applied after each call.
///
/// Usage (diffusers' loop): `x = generator.randn(shape) · initNoiseSigma`; for each
/// `i in timesteps.indices`: `ε = unet(scaleModelInput(x, index: i), timesteps[i])` (with CFG
/// applied by the caller), `x = step(modelOutput: ε, sample: x, generator: &g)`.
/// Latents are NCHW `[batch, 4, h, w]`; the update is elementwise so any layout works as long as
/// noise drawn from `generator` is wanted in that order (diffusers draws it NCHW).
///
/// `state` captures the progress (step index and multistep history); a scheduler built from the
/// same config and step count that `restore`s it continues bit-identically — the hand-off between
/// the server's first k steps and the device's remaining ones.
public protocol Scheduler {
    /// Which algorithm this is.
    var kind: SchedulerKind { get }
    /// Timesteps of the model calls, in order (fractional for Euler-family schedules; PNDM has
    /// one more call than inference steps).
    var timesteps: [Double] { get }
    /// Scale of the initial noise (σ_max-based for Euler-family, 1 otherwise).
    var initNoiseSigma: Float { get }
    /// Index of the next model call (the number of `step`s taken so far).
    var stepIndex: Int { get }
    /// The model input for call `index` (Euler-family divides by √(σ²+1); others pass it through).
    func scaleModelInput(_ sample: Tensor, index: Int) -> Tensor
    /// One solver step after model call `stepIndex`; `generator` supplies noise for stochastic
    /// samplers (Euler ancestral, LCM) exactly as diffusers draws it. Calling it after the last
    /// model call is a programmer error.
    mutating func step(modelOutput: Tensor, sample: Tensor, generator: inout TorchGenerator) -> Tensor
    /// Everything needed to continue after the steps taken so far.
    var state: SchedulerState { get }
    /// Continues from `state`; throws if it belongs to another scheduler or step count or is
    /// missing history. (History shapes are checked against the latents by
    /// `SchedulerState.validateHistory(latentShape:)`.)
    mutating func restore(_ state: SchedulerState) throws
    /// Starts at model call `index` with no solver history: the sample comes from another
    /// sampler at this call's noise level (the LCM → device hand-off). Throws for samplers that
    /// cannot start without history (PNDM) or when `index` is past the last call.
    mutating func begin(at index: Int) throws
}

extension Scheduler {
    /// Single-step samplers: a history-free state at `index`.
    public mutating func begin(at index: Int) throws {
        try restore(SchedulerState(kind: kind, steps: state.steps, stepIndex: index))
    }
}

extension Scheduler {
    /// diffusers' `prepare_latents`: `torch.randn(shape, generator) · init_noise_sigma`.
    public func initialLatents(shape: [Int], generator: inout TorchGenerator) -> Tensor {
        let sigma = initNoiseSigma
        return LatentArithmetic.map(generator.randn(shape)) { $0 * sigma }
    }
}

extension SchedulerKind {
    /// Builds this scheduler for `steps` inference steps from a diffusers scheduler config
    /// (diffusers' `from_config`: keys this scheduler knows are used, the rest take its defaults).
    public func makeScheduler(config: SchedulerConfig = .stableDiffusion15, steps: Int = SchedulerKind.defaultSteps) throws -> any Scheduler {
        switch self {
        case .ddim: try DDIMScheduler(config: config, steps: steps)
        case .pndm: try PNDMScheduler(config: config, steps: steps)
        case .euler: try EulerDiscreteScheduler(config: config, steps: steps)
        case .eulerAncestral: try EulerAncestralDiscreteScheduler(config: config, steps: steps)
        case .dpmSolverPlusPlus2M: try DPMSolverMultistepScheduler(config: config, steps: steps)
        case .lcm: try LCMScheduler(config: config, steps: steps)
        }
    }
}

/// What the denoising model predicts (`prediction_type`).
enum PredictionType: String, CaseIterable {
    case epsilon
    case vPrediction = "v_prediction"

    init(config: SchedulerConfig) throws {
        self.init(rawValue: try config.choice("prediction_type", default: "epsilon", allowed: Self.allCases.map(\.rawValue)))!
    }
}

/// Rejects step counts no schedule can serve.
func validateStepCount(_ steps: Int, trainSteps: Int) throws {
    guard steps >= 1 else { throw SchedulerError.invalidStepCount(steps, reason: "must be at least 1") }
    guard steps <= trainSteps else {
        throw SchedulerError.invalidStepCount(steps, reason: "cannot exceed num_train_timesteps (\(trainSteps))")
    }
}
