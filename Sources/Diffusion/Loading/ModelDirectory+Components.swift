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

    /// Whether this is an SDXL-family pipeline (it has `text_encoder_2/`).
    public var isSDXL: Bool { contains(.textEncoder2) }

    // Each component's GEMM and convolution weights are packed at `precision` (see `Precision`).

    public func textEncoder(precision: Precision = .fp32) throws -> CLIPTextModel {
        try CLIPTextModel(directory: directory(of: .textEncoder), precision: precision)
    }

    /// The prompt encoder: `tokenizer/` + `text_encoder/` alone (SD1.x), or with
    /// `tokenizer_2/` (else `tokenizer/`'s files) + `text_encoder_2/` and `model_index.json`'s
    /// `force_zeros_for_empty_prompt` (diffusers' default true) for SDXL.
    public func promptEncoder(precision: Precision = .fp32) throws -> PromptEncoder {
        let first = PromptEncoder.Tower(tokenizer: try tokenizer(), model: try textEncoder(precision: precision))
        guard isSDXL else { return PromptEncoder(tokenizer: first.tokenizer, textEncoder: first.model) }
        let tokenizer2 = contains(.tokenizer2) ? try CLIPTokenizer(directory: directory(of: .tokenizer2)) : first.tokenizer
        let second = PromptEncoder.Tower(tokenizer: tokenizer2,
                                         model: try CLIPTextModel(directory: directory(of: .textEncoder2), precision: precision))
        return try PromptEncoder(first: first, second: second, forceZerosForEmptyPrompt: pipelineIndex().forceZerosForEmptyPrompt ?? true)
    }

    public func unet(precision: Precision = .fp32) throws -> UNet2DConditionModel {
        try UNet2DConditionModel(configuration: config(UNetConfiguration.self, of: .unet),
                                 weights: weights(of: .unet).packing(at: precision))
    }

    /// The VAE decoder; an SDXL pipeline's VAE with `force_upcast` stays at fp32 (see
    /// `AutoencoderKLConfiguration.forceUpcast`).
    public func vae(precision: Precision = .fp32) throws -> AutoencoderKL {
        let configuration = try config(AutoencoderKLConfiguration.self, of: .vae)
        let effective: Precision = isSDXL && configuration.forceUpcast ? .fp32 : precision
        return try AutoencoderKL(configuration: configuration, weights: weights(of: .vae).packing(at: effective))
    }

    /// The `model_index.json` fields obclip reads (all optional; the file itself may be absent).
    struct PipelineIndex: Decodable {
        var forceZerosForEmptyPrompt: Bool?
        enum CodingKeys: String, CodingKey { case forceZerosForEmptyPrompt = "force_zeros_for_empty_prompt" }
    }

    func pipelineIndex() throws -> PipelineIndex {
        let file = url.appendingPathComponent("model_index.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return PipelineIndex() }
        return try Self.decodeJSON(PipelineIndex.self, from: file)
    }
}
