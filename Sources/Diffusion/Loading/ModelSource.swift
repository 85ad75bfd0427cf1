import Foundation
import TensorCore

/// Where a pipeline's models come from: a diffusers directory, or a real architecture with
/// random weights — the way to time and count a full-size deployment (`serve`, `generate`,
/// benchmarks) on machines that have no checkpoints.
///
/// Random sources pair the named UNet preset with its family's other parts, each component with
/// its own fixed seed, so a server and a device built from random sources share the text
/// encoders exactly as real pairs do: SD1.x presets with CLIP ViT-L/14, SD's VAE, the bundled
/// CLIP tokenizer and SD 1.5's schedule; SDXL-family presets (2048-wide cross-attention) with
/// CLIP ViT-L/14 + OpenCLIP ViT-bigG/14 (bundled vocabulary; `tokenizer_2` pads with `!`),
/// SDXL's VAE (scaling 0.13025) and SDXL's Euler "leading" schedule.
public enum ModelSource: Sendable, Equatable {
    case directory(URL)
    /// A `UNetConfiguration.preset(named:)` architecture with random weights.
    case randomWeights(unet: String)

    static let randomPrefix = "random:"

    /// `random:<preset>` (e.g. `random:sd15`, `random:bk-sdm-small`) or a directory path.
    public init(argument: String) throws {
        guard argument.hasPrefix(Self.randomPrefix) else {
            self = .directory(URL(fileURLWithPath: argument))
            return
        }
        let name = String(argument.dropFirst(Self.randomPrefix.count))
        guard UNetConfiguration.preset(named: name) != nil else {
            throw LoadError.invalidFile(path: argument,
                                        detail: "unknown architecture '\(name)'; known: \(UNetConfiguration.presetNames.joined(separator: ", "))")
        }
        self = .randomWeights(unet: name)
    }

    /// Whether a random source is of the SDXL family (its UNet cross-attends to 2048 channels).
    private static func isSDXLPreset(_ name: String) -> Bool {
        UNetConfiguration.preset(named: name)!.crossAttentionDim == 2048
    }

    public func schedulerConfig() throws -> SchedulerConfig {
        switch self {
        case .directory(let url): try ModelDirectory(url).schedulerConfig()
        case .randomWeights(let name): Self.isSDXLPreset(name) ? .stableDiffusionXL : .stableDiffusion15
        }
    }

    // Each component's GEMM and convolution weights are packed at `precision` (see `Precision`).

    public func promptEncoder(precision: Precision = .fp32) throws -> PromptEncoder {
        switch self {
        case .directory(let url): return try ModelDirectory(url).promptEncoder(precision: precision)
        case .randomWeights(let name):
            let tokenizer = try CLIPTokenizer.bundled()
            let first = try CLIPTextModel(configuration: .vitL14, weights: .random(seed: 1, precision: precision))
            guard Self.isSDXLPreset(name) else { return PromptEncoder(tokenizer: tokenizer, textEncoder: first) }
            let second = try CLIPTextModel(configuration: .vitBigG14, weights: .random(seed: 4, precision: precision), withProjection: true)
            return try PromptEncoder(first: .init(tokenizer: tokenizer, model: first),
                                     second: .init(tokenizer: tokenizer.padding(with: "!"), model: second))
        }
    }

    public func unet(precision: Precision = .fp32) throws -> UNet2DConditionModel {
        switch self {
        case .directory(let url): try ModelDirectory(url).unet(precision: precision)
        case .randomWeights(let name):
            try UNet2DConditionModel(configuration: UNetConfiguration.preset(named: name)!, weights: .random(seed: 2, precision: precision))
        }
    }

    public func vae(precision: Precision = .fp32) throws -> AutoencoderKL {
        switch self {
        case .directory(let url): try ModelDirectory(url).vae(precision: precision)
        case .randomWeights(let name):
            Self.isSDXLPreset(name)
                ? try AutoencoderKL(configuration: .sdxl, weights: .random(seed: 3, precision: .fp32))   // force_upcast
                : try AutoencoderKL(configuration: .sd, weights: .random(seed: 3, precision: precision))
        }
    }
}
