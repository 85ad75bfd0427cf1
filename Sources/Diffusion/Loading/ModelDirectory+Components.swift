import Foundation
import TensorCore

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

    // Each component's GEMM and convolution weights are packed at `precision` (see `Precision`).

    public func textEncoder(precision: Precision = .fp32) throws -> CLIPTextModel {
        try CLIPTextModel(directory: directory(of: .textEncoder), precision: precision)
    }

    public func unet(precision: Precision = .fp32) throws -> UNet2DConditionModel {
        try UNet2DConditionModel(configuration: config(UNetConfiguration.self, of: .unet),
                                 weights: weights(of: .unet).packing(at: precision))
    }

    public func vae(precision: Precision = .fp32) throws -> AutoencoderKL {
        try AutoencoderKL(configuration: config(AutoencoderKLConfiguration.self, of: .vae),
                          weights: weights(of: .vae).packing(at: precision))
    }
}
