import Foundation

extension ModelDirectory {
    /// `tokenizer/` if the directory has one, else CLIP's bundled vocabulary (SD1.x models all
    /// use it).
    public func tokenizer() throws -> CLIPTokenizer {
        contains(.tokenizer) ? try CLIPTokenizer(directory: directory(of: .tokenizer)) : try CLIPTokenizer.bundled()
    }

    /// `scheduler/scheduler_config.json` if present, else SD 1.5's schedule.
    public func schedulerConfig() throws -> SchedulerConfig {
        guard contains(.scheduler) else { return .stableDiffusion15 }
        return try SchedulerConfig(contentsOf: directory(of: .scheduler).appendingPathComponent(Component.scheduler.configFileName))
    }

    public func textEncoder() throws -> CLIPTextModel {
        try CLIPTextModel(directory: directory(of: .textEncoder))
    }

    public func unet() throws -> UNet2DConditionModel {
        try UNet2DConditionModel(configuration: config(UNetConfiguration.self, of: .unet), weights: weights(of: .unet))
    }

    public func vae() throws -> AutoencoderKL {
        try AutoencoderKL(configuration: config(AutoencoderKLConfiguration.self, of: .vae), weights: weights(of: .vae))
    }
}
