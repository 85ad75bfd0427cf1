import Diffusion
import Foundation

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

    /// Loads a diffusers pipeline directory: `unet/`, `vae/`, `text_encoder/`, and optionally
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
                  vae: try AutoencoderKL(configuration: directory.config(AutoencoderKLConfiguration.self, of: .vae),
                                         weights: directory.weights(of: .vae)),
                  schedulerConfig: schedulerConfig)
    }
}
