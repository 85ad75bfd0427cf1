import Foundation

/// The parts of a diffusers `vae/config.json` (`AutoencoderKL`) the decoder needs; missing
/// fields take diffusers' class defaults. SD1.x's VAE is `AutoencoderKLConfiguration.sd`.
public struct AutoencoderKLConfiguration: Decodable, Sendable, Equatable {
    public var outChannels: Int = 3
    public var latentChannels: Int = 4
    public var blockOutChannels: [Int] = [64]
    public var upBlockTypes: [String] = ["UpDecoderBlock2D"]
    public var layersPerBlock: Int = 1
    public var normNumGroups: Int = 32
    /// Latents are divided by this before decoding (SD1.x: 0.18215).
    public var scalingFactor: Float = 0.18215
    /// Subtracted after unscaling when present (`latents / scaling + shift`); `nil` for SD1.x.
    public var shiftFactor: Float? = nil
    public var usePostQuantConv: Bool = true
    public var midBlockAddAttention: Bool = true
    /// diffusers' `force_upcast` (class default true): the SDXL pipeline decodes in float32 even
    /// when the pipeline runs in float16, because SDXL's VAE overflows f16. obclip's activations
    /// are f32 always; here it means the VAE's weights and GEMM inputs stay fp32 whatever
    /// `--precision` the SDXL-family pipeline runs at.
    public var forceUpcast: Bool = true
    /// The image side the model was trained at (diffusers' `sample_size`; class default 32): the
    /// decoder's convolutions pick their method for the feature sides of this size.
    public var sampleSize: Int = 32
    var actFn: String = "silu"

    /// The Stable Diffusion 1.x VAE (`block_out_channels [128, 256, 512, 512]`, 2 layers per block).
    public static let sd = AutoencoderKLConfiguration(blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, sampleSize: 512)

    /// SDXL's VAE: SD's architecture, latents scaled by 0.13025 (stabilityai/stable-diffusion-xl-base-1.0 `vae/config.json`).
    public static let sdxl = AutoencoderKLConfiguration(blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, scalingFactor: 0.13025,
                                                        sampleSize: 1024)

    public init(blockOutChannels: [Int], layersPerBlock: Int, normNumGroups: Int = 32, scalingFactor: Float = 0.18215,
                sampleSize: Int = 32) {
        self.blockOutChannels = blockOutChannels
        self.sampleSize = sampleSize
        upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: blockOutChannels.count)
        self.layersPerBlock = layersPerBlock
        self.normNumGroups = normNumGroups
        self.scalingFactor = scalingFactor
    }

    enum CodingKeys: String, CodingKey {
        case outChannels = "out_channels", latentChannels = "latent_channels"
        case blockOutChannels = "block_out_channels", upBlockTypes = "up_block_types"
        case layersPerBlock = "layers_per_block", normNumGroups = "norm_num_groups"
        case scalingFactor = "scaling_factor", shiftFactor = "shift_factor"
        case usePostQuantConv = "use_post_quant_conv", midBlockAddAttention = "mid_block_add_attention"
        case actFn = "act_fn", forceUpcast = "force_upcast", sampleSize = "sample_size"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? outChannels
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? latentChannels
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? blockOutChannels
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? upBlockTypes
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? layersPerBlock
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? normNumGroups
        scalingFactor = try c.decodeIfPresent(Float.self, forKey: .scalingFactor) ?? scalingFactor
        shiftFactor = try c.decodeIfPresent(Float.self, forKey: .shiftFactor)
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv) ?? usePostQuantConv
        midBlockAddAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention) ?? midBlockAddAttention
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn) ?? actFn
        forceUpcast = try c.decodeIfPresent(Bool.self, forKey: .forceUpcast) ?? forceUpcast
        sampleSize = try c.decodeIfPresent(Int.self, forKey: .sampleSize) ?? sampleSize
    }

    /// Decodes and validates `config.json` at `url`; errors name the file.
    public static func load(from url: URL) throws -> AutoencoderKLConfiguration {
        let config = try ModelDirectory.decodeJSON(AutoencoderKLConfiguration.self, from: url)
        try config.validate()
        return config
    }

    /// Checks that the configuration describes a decoder this engine implements.
    public func validate() throws {
        func fail(_ s: String) -> UNetError { .invalidConfiguration("vae: " + s) }
        guard !blockOutChannels.isEmpty else { throw fail("block_out_channels is empty") }
        guard upBlockTypes.count == blockOutChannels.count else {
            throw fail("up_block_types must have \(blockOutChannels.count) entries")
        }
        for t in upBlockTypes where t != "UpDecoderBlock2D" { throw fail("unsupported up block type \(t)") }
        guard normNumGroups >= 1 else { throw fail("norm_num_groups must be ≥ 1, got \(normNumGroups)") }
        for ch in blockOutChannels where ch <= 0 || ch % normNumGroups != 0 {
            throw fail("block_out_channels \(ch) is not a positive multiple of norm_num_groups \(normNumGroups)")
        }
        if layersPerBlock < 1 { throw fail("layers_per_block must be ≥ 1") }
        if actFn != "silu" { throw fail("act_fn \(actFn) is not supported (only silu)") }
        if !(scalingFactor.isFinite && scalingFactor != 0) { throw fail("scaling_factor must be finite and non-zero") }
    }
}
