import Foundation
import TensorCore

/// Where a pipeline's models come from: a diffusers directory, or a real architecture with
/// random weights — the way to time and count a full-size deployment (`serve`, `generate`,
/// benchmarks) on machines that have no checkpoints.
///
/// Random sources pair the named UNet preset with CLIP ViT-L/14, SD's VAE, the bundled CLIP
/// tokenizer and SD 1.5's schedule, each component with its own fixed seed, so a server and a
/// device built from random sources share one text encoder exactly as real pairs share CLIP.
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

    public func tokenizer() throws -> CLIPTokenizer {
        switch self {
        case .directory(let url): try ModelDirectory(url).tokenizer()
        case .randomWeights: try CLIPTokenizer.bundled()
        }
    }

    public func schedulerConfig() throws -> SchedulerConfig {
        switch self {
        case .directory(let url): try ModelDirectory(url).schedulerConfig()
        case .randomWeights: .stableDiffusion15
        }
    }

    // Each component's GEMM and convolution weights are packed at `precision` (see `Precision`).

    public func textEncoder(precision: Precision = .fp32) throws -> CLIPTextModel {
        switch self {
        case .directory(let url): try ModelDirectory(url).textEncoder(precision: precision)
        case .randomWeights: try CLIPTextModel(configuration: .vitL14, weights: .random(seed: 1, precision: precision))
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
        case .randomWeights: try AutoencoderKL(configuration: .sd, weights: .random(seed: 3, precision: precision))
        }
    }
}
