import TensorCore

/// One model and what it is called with over a run of denoising steps: the noise predictor, its
/// prepared conditioning (`[negative; positive]` rows under classifier-free guidance) and the
/// guidance scale applied to its output. Hybrid SD's switch to a second UNet is a second stage.
///
/// Building a stage from encoded text is the one place that decides guidance and derives the
/// per-model conditioning parts (SDXL time ids, LCM's guidance embedding), so a new part of
/// `TextConditioning` reaches every caller through here.
public struct DenoisingStage: @unchecked Sendable {
    public let model: any NoisePredictor
    /// What `model` is conditioned on; its rows are twice the latents' under guidance.
    public let conditioning: TextConditioning
    /// The classifier-free guidance scale, or nil when the model's prediction is used as is.
    public let guidanceScale: Float?
    /// The phase its steps are reported and costed under.
    public let phase: GenerationPhase

    /// A stage with conditioning already prepared for `model`.
    public init(model: any NoisePredictor, conditioning: TextConditioning, guidanceScale: Float?, phase: GenerationPhase = .unet(model: 0)) {
        self.model = model
        self.conditioning = conditioning
        self.guidanceScale = guidanceScale
        self.phase = phase
    }

    /// A stage for `model` from encoded text: `positive` (one row per latent row) and, only when
    /// the model takes classifier-free guidance at `guidanceScale`, `negative()` (same shapes).
    /// SDXL's time ids come from `micro`, LCM's guidance embedding from `guidanceScale`.
    public init(model: any NoisePredictor, positive: TextConditioning, negative: () throws -> TextConditioning?,
                micro: MicroConditioning, guidanceScale: Float, phase: GenerationPhase = .unet(model: 0)) throws {
        let guided = model.configuration.usesClassifierFreeGuidance(scale: guidanceScale)
        var text = positive
        if guided {
            let hidden = positive.hiddenStates.shape
            let unconditional = try negative()
            guard let negative = unconditional, negative.hiddenStates.shape == hidden, negative.pooled?.shape == positive.pooled?.shape else {
                throw UNetError.invalidInput("guidance needs negative embeddings shaped like the prompt's \(hidden), got \(unconditional?.hiddenStates.shape ?? [])")
            }
            text = TextConditioning.concatenated([negative, positive])
        }
        self.init(model: model, conditioning: text.prepared(for: model.configuration, micro: micro, guidanceScale: guidanceScale),
                  guidanceScale: guided ? guidanceScale : nil, phase: phase)
    }

    /// The guided noise prediction for `latents` (already scaled for the scheduler) at model
    /// call `call` and its `timestep`.
    func predictNoise(_ latents: Tensor, timestep: Double, call: Int) throws -> Tensor {
        try guidedNoise(latents, scale: guidanceScale) {
            try model.predictNoise($0, timestep: timestep, conditioning: conditioning, call: call)
        }
    }

    /// Throws if the model would refuse latents of `shape` (one row per text row) under this
    /// stage's conditioning.
    func validate(latentShape shape: [Int]) throws {
        try model.validate(latents: [conditioning.batch] + shape.dropFirst(), timesteps: 1, conditioning: conditioning)
    }
}
