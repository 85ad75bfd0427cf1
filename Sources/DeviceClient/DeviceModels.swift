import Diffusion
import Foundation
import TensorCore

/// The models on the device: its own prompt encoder (it must encode the real prompt itself —
/// the server never learns which embedding is real), the small UNet that finishes the
/// trajectory, the VAE decoder, and the scheduler configuration.
public struct DeviceModels: Sendable {
    public let promptEncoder: PromptEncoder
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let schedulerConfig: SchedulerConfig

    public init(promptEncoder: PromptEncoder, unet: UNet2DConditionModel, vae: AutoencoderKL, schedulerConfig: SchedulerConfig) {
        self.promptEncoder = promptEncoder
        self.unet = unet
        self.vae = vae
        self.schedulerConfig = schedulerConfig
    }

    /// SD1.x models from their single tokenizer and text encoder.
    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel, vae: AutoencoderKL,
                schedulerConfig: SchedulerConfig) {
        self.init(promptEncoder: PromptEncoder(tokenizer: tokenizer, textEncoder: textEncoder), unet: unet, vae: vae,
                  schedulerConfig: schedulerConfig)
    }

    /// Loads a diffusers pipeline directory (`unet/`, `vae/`, `text_encoder/` — and SDXL's
    /// `text_encoder_2/` — and optionally `tokenizer/`, else the bundled CLIP vocabulary, and
    /// `scheduler/`, else SD 1.5's schedule) or builds a random-weight architecture, with the
    /// models' arithmetic at `precision`.
    public init(source: ModelSource, precision: Precision = .fp32) throws {
        try self.init(promptEncoder: source.promptEncoder(precision: precision), unet: source.unet(precision: precision),
                      vae: source.vae(precision: precision), schedulerConfig: source.schedulerConfig())
    }

    /// The first (SD1.x: only) tokenizer.
    public var tokenizer: CLIPTokenizer { promptEncoder.tokenizer }
    /// The model family of the device UNet (sent as `GenerationRequest.modelFamily`).
    public var family: ModelFamily { ModelFamily(unet.configuration) }
}
