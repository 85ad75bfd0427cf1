import Foundation
import TensorCore

/// Text-to-image with a diffusers SD1.x or SDXL model directory: the prompt encoder (one CLIP
/// text encoder, or SDXL's pair), a UNet (optionally a second, smaller one that takes over after
/// a switch step — Hybrid SD, sharing the text encoders and VAE), the scheduler config and the
/// VAE decoder.
public struct StableDiffusionPipeline: Sendable {
    public let promptEncoder: PromptEncoder
    public let denoiser: Denoiser
    public let vae: AutoencoderKL

    public init(promptEncoder: PromptEncoder, denoiser: Denoiser, vae: AutoencoderKL) {
        self.promptEncoder = promptEncoder
        self.denoiser = denoiser
        self.vae = vae
    }

    /// An SD1.x pipeline from its single tokenizer and text encoder.
    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, denoiser: Denoiser, vae: AutoencoderKL) {
        self.init(promptEncoder: PromptEncoder(tokenizer: tokenizer, textEncoder: textEncoder), denoiser: denoiser, vae: vae)
    }

    /// The first (SD1.x: only) tokenizer.
    public var tokenizer: CLIPTokenizer { promptEncoder.tokenizer }
    /// The first (SD1.x: only) text encoder.
    public var textEncoder: CLIPTextModel { promptEncoder.towers[0].model }

    /// Loads `model` (a diffusers pipeline directory) and, if given, the `unet/` of
    /// `deviceModel` as the second UNet, with GEMM and convolution weights packed at `precision`.
    public init(model: URL, deviceModel: URL? = nil, precision: Precision = .fp32) throws {
        let directory = try ModelDirectory(model)
        try self.init(promptEncoder: directory.promptEncoder(precision: precision),
                      denoiser: Denoiser(unet: directory.unet(precision: precision),
                                         secondUNet: deviceModel.map { try ModelDirectory($0).unet(precision: precision) },
                                         schedulerConfig: directory.schedulerConfig()),
                      vae: directory.vae(precision: precision))
    }

    /// The result of `generate`: NCHW latents before the VAE, NHWC images in [0, 1], and the
    /// time and FLOPs of every phase.
    public struct Output: @unchecked Sendable {
        public let latents: Tensor
        public let images: Tensor
        public let costs: [PhaseCost]
    }

    /// Image size in pixels must be a multiple of this (VAE upscale × UNet down-sampling).
    public var sizeMultiple: Int { vae.upscale * denoiser.unet.spatialMultiple }

    /// One image per prompt (`prompts` is the batch), all with `negativePrompt` as the
    /// unconditional text (`""`: diffusers' default — SD1.x encodes the empty string, SDXL with
    /// `force_zeros_for_empty_prompt` conditions on zeros).
    public func generate(prompts: [String], negativePrompt: String = "", width: Int, height: Int, settings: DenoisingSettings,
                         progress: GenerationProgressHandler = { _ in true }) throws -> Output {
        guard !prompts.isEmpty else { throw UNetError.invalidInput("no prompt") }
        let m = sizeMultiple
        guard width > 0, height > 0, width % m == 0, height % m == 0 else {
            throw UNetError.invalidInput("image size \(width)×\(height) must be positive multiples of \(m)")
        }
        var costs: [PhaseCost] = []
        func measured<T>(_ phase: GenerationPhase, _ body: () throws -> T) throws -> T {
            let (result, cost) = try PhaseCost.measuring(phase, body)
            costs.append(cost)
            if !progress(GenerationProgress(phase: phase, completed: 1, total: 1)) { throw GenerationCancelled(phase: phase) }
            return result
        }
        let (positive, negative) = try measured(.textEncoder) { () throws -> (TextConditioning, TextConditioning?) in
            let positive = try promptEncoder.encode(prompts)
            guard settings.usesGuidance else { return (positive, nil) }
            return (positive, try promptEncoder.unconditional(negativePrompt: negativePrompt, count: prompts.count, like: positive))
        }
        var s = settings
        s.latentHeight = height / vae.upscale
        s.latentWidth = width / vae.upscale
        if s.microConditioning == nil { s.microConditioning = .defaults(height: height, width: width) }
        let latents = try denoiser.latents(positive: positive, negative: negative, settings: s, costs: &costs, progress: progress)
        let images = try measured(.vae) { try vae.decode(latents) }
        return Output(latents: latents, images: images, costs: costs)
    }
}
