import Diffusion
import Foundation

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

    /// Loads a diffusers pipeline directory: `unet/`, `text_encoder/`, and optionally
    /// `tokenizer/` (else the bundled CLIP vocabulary) and `scheduler/` (else SD 1.5's schedule).
    public init(directory url: URL) throws {
        let directory = try ModelDirectory(url)
        let tokenizer = directory.contains(.tokenizer)
            ? try CLIPTokenizer(directory: directory.directory(of: .tokenizer)) : try CLIPTokenizer.bundled()
        let schedulerConfig = directory.contains(.scheduler)
            ? try SchedulerConfig(contentsOf: directory.directory(of: .scheduler).appendingPathComponent("scheduler_config.json"))
            : .stableDiffusion15
        self.init(tokenizer: tokenizer,
                  textEncoder: try CLIPTextModel(directory: directory.directory(of: .textEncoder)),
                  unet: try UNet2DConditionModel(configuration: directory.config(UNetConfiguration.self, of: .unet),
                                                 weights: directory.weights(of: .unet)),
                  schedulerConfig: schedulerConfig)
    }
}
