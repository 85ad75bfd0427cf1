import TensorCore

/// What a denoising step calls for its noise prediction: a plain UNet, or one driven through an
/// accelerated trajectory (`AcceleratedUNet`, which needs the call index to pick its plan).
/// The loop (`DenoisingTrajectory.run`) sees only this, so a new model family or acceleration
/// plugs in without teaching the three callers.
public protocol NoisePredictor {
    /// The UNet's configuration: which conditioning parts it reads and whether it takes
    /// classifier-free guidance.
    var configuration: UNetConfiguration { get }

    /// The NCHW noise prediction for `latents` at `timestep` under `conditioning` (one row per
    /// latent row), as model call `call` of its trajectory.
    func predictNoise(_ latents: Tensor, timestep: Double, conditioning: TextConditioning, call: Int) throws -> Tensor

    /// Throws a message naming the offending argument if a forward on `latents`-shaped input
    /// under `conditioning` would be refused.
    func validate(latents: [Int], timesteps: Int, conditioning: TextConditioning) throws
}

extension UNet2DConditionModel: NoisePredictor {
    /// The plain forward; a plain UNet has no per-call state, so `call` is unused.
    public func predictNoise(_ latents: Tensor, timestep: Double, conditioning: TextConditioning, call: Int) throws -> Tensor {
        try self(latents, timesteps: [timestep], conditioning: conditioning)
    }
}

extension AcceleratedUNet: NoisePredictor {
    public var configuration: UNetConfiguration { unet.configuration }

    public func predictNoise(_ latents: Tensor, timestep: Double, conditioning: TextConditioning, call: Int) throws -> Tensor {
        try self(latents, timestep: timestep, conditioning: conditioning, call: call)
    }

    public func validate(latents: [Int], timesteps: Int, conditioning: TextConditioning) throws {
        try unet.validate(latents: latents, timesteps: timesteps, conditioning: conditioning)
    }
}

extension UNetConfiguration {
    /// Whether a UNet of this configuration runs with classifier-free guidance at `scale`:
    /// diffusers' `do_classifier_free_guidance` (`scale > 1`), never for LCM's
    /// guidance-embedded UNets (`time_cond_proj_dim`), which receive the scale as an embedding.
    public func usesClassifierFreeGuidance(scale: Float) -> Bool {
        scale > 1 && timeCondProjDim == nil
    }
}
