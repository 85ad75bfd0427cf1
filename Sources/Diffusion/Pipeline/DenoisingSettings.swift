/// How to run the denoising loop (diffusers' `StableDiffusionPipeline.__call__` arguments).
public struct DenoisingSettings: Sendable, Equatable {
    /// Inference steps (PNDM makes one more UNet call than this).
    public var steps: Int
    public var scheduler: SchedulerKind
    /// Classifier-free guidance scale; guidance (and the unconditional half) is used only when > 1.
    public var guidanceScale: Float
    /// Seed of the `torch.Generator` that draws the initial latents and any sampler noise.
    public var seed: UInt64
    /// Latent height and width (image size / VAE upscale factor).
    public var latentHeight: Int
    public var latentWidth: Int
    /// Hybrid SD: UNet calls with index `< switchStep` use the main UNet, later ones the second
    /// UNet. `nil` runs the main UNet throughout.
    public var switchStep: Int?
    /// SDXL's micro-conditioning; nil takes diffusers' defaults for the generated size.
    public var microConditioning: MicroConditioning?

    public init(steps: Int = SchedulerKind.defaultSteps, scheduler: SchedulerKind = .default, guidanceScale: Float = 7.5,
                seed: UInt64 = 0, latentHeight: Int = 64, latentWidth: Int = 64, switchStep: Int? = nil,
                microConditioning: MicroConditioning? = nil) {
        self.steps = steps
        self.scheduler = scheduler
        self.guidanceScale = guidanceScale
        self.seed = seed
        self.latentHeight = latentHeight
        self.latentWidth = latentWidth
        self.switchStep = switchStep
        self.microConditioning = microConditioning
    }

    /// Whether the unconditional half is run (diffusers: `guidance_scale > 1`).
    public var usesGuidance: Bool { guidanceScale > 1 }
}
