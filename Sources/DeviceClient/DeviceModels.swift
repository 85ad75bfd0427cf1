import Diffusion
import Foundation
import TensorCore

/// The models on the device: its own CLIP tokenizer and text encoder (it must encode the real
/// prompt itself — the server never learns which embedding is real), the small UNet that
/// finishes the trajectory, the VAE decoder, and the scheduler configuration.
public struct DeviceModels: Sendable {
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let schedulerConfig: SchedulerConfig

    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel, vae: AutoencoderKL,
                schedulerConfig: SchedulerConfig) {
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
        self.unet = unet
        self.vae = vae
        self.schedulerConfig = schedulerConfig
    }

    /// Loads a diffusers pipeline directory (`unet/`, `vae/`, `text_encoder/`, and optionally
    /// `tokenizer/` — else the bundled CLIP vocabulary — and `scheduler/` — else SD 1.5's
    /// schedule) or builds a random-weight architecture, with the models' arithmetic at `precision`.
    public init(source: ModelSource, precision: Precision = .fp32) throws {
        try self.init(tokenizer: source.tokenizer(), textEncoder: source.textEncoder(precision: precision),
                      unet: source.unet(precision: precision), vae: source.vae(precision: precision),
                      schedulerConfig: source.schedulerConfig())
    }
}
