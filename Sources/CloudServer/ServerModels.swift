import Diffusion
import Foundation
import TensorCore

/// The models the cloud runs: the prompt encoder that encodes the candidates (CLIP for SD1.x,
/// SDXL's pair), the large UNet, and the scheduler configuration its timesteps come from.
public struct ServerModels: Sendable {
    public let promptEncoder: PromptEncoder
    public let unet: UNet2DConditionModel
    public let schedulerConfig: SchedulerConfig

    public init(promptEncoder: PromptEncoder, unet: UNet2DConditionModel, schedulerConfig: SchedulerConfig) {
        self.promptEncoder = promptEncoder
        self.unet = unet
        self.schedulerConfig = schedulerConfig
    }

    /// SD1.x models from their single tokenizer and text encoder.
    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel, schedulerConfig: SchedulerConfig) {
        self.init(promptEncoder: PromptEncoder(tokenizer: tokenizer, textEncoder: textEncoder), unet: unet, schedulerConfig: schedulerConfig)
    }

    /// Loads a diffusers pipeline directory (`unet/`, `text_encoder/` — and SDXL's
    /// `text_encoder_2/` — and optionally `tokenizer/`, else the bundled CLIP vocabulary, and
    /// `scheduler/`, else SD 1.5's schedule) or builds a random-weight architecture, with the
    /// models' arithmetic at `precision`.
    public init(source: ModelSource, precision: Precision = .fp32) throws {
        try self.init(promptEncoder: source.promptEncoder(precision: precision), unet: source.unet(precision: precision),
                      schedulerConfig: source.schedulerConfig())
    }

    /// The first (SD1.x: only) tokenizer.
    public var tokenizer: CLIPTokenizer { promptEncoder.tokenizer }
    /// The model family the server serves (`GenerationRequest.modelFamily` must name it).
    public var family: ModelFamily { ModelFamily(unet.configuration) }
}
