import Diffusion
import Foundation
import TensorCore

/// The models the cloud runs: the CLIP tokenizer and text encoder that encode the candidates,
/// the large UNet, and the scheduler configuration its timesteps come from.
public struct ServerModels: Sendable {
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let schedulerConfig: SchedulerConfig

    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel, schedulerConfig: SchedulerConfig) {
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
        self.unet = unet
        self.schedulerConfig = schedulerConfig
    }

    /// Loads a diffusers pipeline directory (`unet/`, `text_encoder/`, and optionally
    /// `tokenizer/` — else the bundled CLIP vocabulary — and `scheduler/` — else SD 1.5's
    /// schedule) or builds a random-weight architecture, with the models' arithmetic at `precision`.
    public init(source: ModelSource, precision: Precision = .fp32) throws {
        try self.init(tokenizer: source.tokenizer(), textEncoder: source.textEncoder(precision: precision),
                      unet: source.unet(precision: precision), schedulerConfig: source.schedulerConfig())
    }
}
