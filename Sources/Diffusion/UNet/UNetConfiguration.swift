import Foundation

/// The architecture of a `UNet2DConditionModel`, decoded from a diffusers `unet/config.json`
/// (diffusers' field names; missing fields take diffusers' defaults, which are SD1.x's).
///
/// Per-block fields that diffusers accepts either as one integer or as a list per down block
/// (`layers_per_block`, `transformer_layers_per_block`, `attention_head_dim`) are normalised to
/// one value per down block; transformer depths may also be nested lists, one depth per layer
/// (SSD-1B, Segmind-Vega: `LayerDepths.perLayer`). The SDXL family's fields are implemented: SDXL's `text_time` added
/// embedding (`addition_time_embed_dim`, `projection_class_embeddings_input_dim`) and LCM's
/// guidance embedding (`time_cond_proj_dim`). Features outside both families (class embeddings,
/// dual cross-attention, …) are rejected by `validate()` with a message naming the field, rather
/// than silently ignored.
public struct UNetConfiguration: Decodable, Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var blockOutChannels: [Int]
    public var downBlockTypes: [String]
    public var upBlockTypes: [String]
    /// `"UNetMidBlock2DCrossAttn"` (resnet → transformer → resnet), `"UNetMidBlock2D"` (one
    /// resnet: SSD-1B, Vega) or `nil`, no mid block (BK-SDM-Small/Tiny: `"mid_block_type": null`).
    public var midBlockType: String?
    /// Resnets per down block; up block `i` has `reversed(layersPerBlock)[i] + 1`.
    public var layersPerBlock: [Int]
    /// Transformer blocks inside each `Transformer2DModel`, per down block (the last entry's
    /// first depth is also the mid block's, as in diffusers).
    public var transformerLayersPerBlock: [LayerDepths]
    /// Per up block; diffusers' default is the reverse of `transformerLayersPerBlock`, and it is
    /// required when that has per-layer lists.
    public var reverseTransformerLayersPerBlock: [LayerDepths]?
    /// Legacy diffusers naming: for SD1.x this is the **number of heads** per down block
    /// (head dimension = channels / heads), because diffusers maps `num_attention_heads` to it.
    public var attentionHeadDim: [Int]
    public var crossAttentionDim: Int
    public var normNumGroups: Int
    public var normEps: Float
    public var flipSinToCos: Bool
    public var freqShift: Int
    public var downsamplePadding: Int
    /// `true`: `proj_in`/`proj_out` are Linear layers; `false`: 1×1 convolutions (same maths).
    public var useLinearProjection: Bool
    public var centerInputSample: Bool
    public var midBlockScaleFactor: Float
    public var sampleSize: Int
    /// `"text_time"` (SDXL: pooled text embeds ⊕ sinusoidal micro-conditioning ids → `add_embedding`
    /// MLP, added to the time embedding) or nil (SD1.x).
    public var additionEmbedType: String?
    /// Sinusoid width of each micro-conditioning id (SDXL: 256).
    public var additionTimeEmbedDim: Int?
    /// Input width of `add_embedding` (SDXL: 1280 pooled + 6 × 256 = 2816).
    public var projectionClassEmbeddingsInputDim: Int?
    /// Width of LCM's guidance-scale embedding projected by `time_embedding.cond_proj` (256), or nil.
    public var timeCondProjDim: Int?

    // Fields read only to reject configurations this engine does not implement.
    var actFn: String = "silu"
    var onlyCrossAttention: Bool = false
    var dualCrossAttention: Bool = false
    var numAttentionHeads: [Int]? = nil
    var classEmbedType: String? = nil
    var encoderHidDim: Int? = nil
    var timeEmbeddingType: String = "positional"
    var resnetTimeScaleShift: String = "default"
    var convInKernel: Int = 3
    var convOutKernel: Int = 3
    var attentionType: String = "default"
    var upcastAttention: Bool = false
    var timeEmbeddingDim: Int? = nil
    var timeEmbeddingActFn: String? = nil
    var timestepPostAct: String? = nil
    var crossAttentionNorm: String? = nil
    var resnetSkipTimeAct: Bool = false
    var resnetOutScaleFactor: Float = 1

    /// A configuration with explicit structure; other fields take SD1.x's values.
    public init(blockOutChannels: [Int] = [320, 640, 1280, 1280],
                downBlockTypes: [String] = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                upBlockTypes: [String] = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                midBlockType: String? = "UNetMidBlock2DCrossAttn",
                layersPerBlock: Int = 2,
                attentionHeadDim: Int = 8,
                crossAttentionDim: Int = 768,
                normNumGroups: Int = 32,
                useLinearProjection: Bool = false,
                sampleSize: Int = 64) {
        inChannels = 4
        outChannels = 4
        self.blockOutChannels = blockOutChannels
        self.downBlockTypes = downBlockTypes
        self.upBlockTypes = upBlockTypes
        self.midBlockType = midBlockType
        self.layersPerBlock = Array(repeating: layersPerBlock, count: blockOutChannels.count)
        transformerLayersPerBlock = Array(repeating: 1, count: blockOutChannels.count)
        reverseTransformerLayersPerBlock = nil
        self.attentionHeadDim = Array(repeating: attentionHeadDim, count: blockOutChannels.count)
        self.crossAttentionDim = crossAttentionDim
        self.normNumGroups = normNumGroups
        normEps = 1e-5
        flipSinToCos = true
        freqShift = 0
        downsamplePadding = 1
        self.useLinearProjection = useLinearProjection
        centerInputSample = false
        midBlockScaleFactor = 1
        self.sampleSize = sampleSize
        additionEmbedType = nil
        additionTimeEmbedDim = nil
        projectionClassEmbeddingsInputDim = nil
        timeCondProjDim = nil
    }

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels"
        case blockOutChannels = "block_out_channels"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types"
        case midBlockType = "mid_block_type"
        case layersPerBlock = "layers_per_block"
        case transformerLayersPerBlock = "transformer_layers_per_block"
        case reverseTransformerLayersPerBlock = "reverse_transformer_layers_per_block"
        case attentionHeadDim = "attention_head_dim", numAttentionHeads = "num_attention_heads"
        case crossAttentionDim = "cross_attention_dim"
        case normNumGroups = "norm_num_groups", normEps = "norm_eps"
        case flipSinToCos = "flip_sin_to_cos", freqShift = "freq_shift"
        case downsamplePadding = "downsample_padding"
        case useLinearProjection = "use_linear_projection"
        case centerInputSample = "center_input_sample"
        case midBlockScaleFactor = "mid_block_scale_factor"
        case sampleSize = "sample_size"
        case actFn = "act_fn", onlyCrossAttention = "only_cross_attention"
        case dualCrossAttention = "dual_cross_attention"
        case classEmbedType = "class_embed_type", additionEmbedType = "addition_embed_type"
        case additionTimeEmbedDim = "addition_time_embed_dim"
        case projectionClassEmbeddingsInputDim = "projection_class_embeddings_input_dim"
        case timeCondProjDim = "time_cond_proj_dim", encoderHidDim = "encoder_hid_dim"
        case timeEmbeddingType = "time_embedding_type"
        case resnetTimeScaleShift = "resnet_time_scale_shift"
        case convInKernel = "conv_in_kernel", convOutKernel = "conv_out_kernel"
        case attentionType = "attention_type", upcastAttention = "upcast_attention"
        case timeEmbeddingDim = "time_embedding_dim", timeEmbeddingActFn = "time_embedding_act_fn"
        case timestepPostAct = "timestep_post_act", crossAttentionNorm = "cross_attention_norm"
        case resnetSkipTimeAct = "resnet_skip_time_act", resnetOutScaleFactor = "resnet_out_scale_factor"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let base = UNetConfiguration()
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? base.blockOutChannels
        let blocks = blockOutChannels.count
        func perBlock(_ key: CodingKeys, default value: Int) throws -> [Int] {
            try c.decodeIfPresent(PerBlock<Int>.self, forKey: key)?.values(count: blocks) ?? Array(repeating: value, count: blocks)
        }
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 4
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? 4
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? base.downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? base.upBlockTypes
        // An explicit JSON null means "no mid block"; an absent key means diffusers' default.
        if c.contains(.midBlockType) {
            midBlockType = try c.decodeNil(forKey: .midBlockType) ? nil : c.decode(String.self, forKey: .midBlockType)
        } else {
            midBlockType = base.midBlockType
        }
        layersPerBlock = try perBlock(.layersPerBlock, default: 2)
        transformerLayersPerBlock = try c.decodeIfPresent(PerBlock<LayerDepths>.self, forKey: .transformerLayersPerBlock)?
            .values(count: blocks) ?? Array(repeating: 1, count: blocks)
        reverseTransformerLayersPerBlock = try c.decodeIfPresent(PerBlock<LayerDepths>.self, forKey: .reverseTransformerLayersPerBlock)?
            .values(count: blocks)
        attentionHeadDim = try perBlock(.attentionHeadDim, default: 8)
        numAttentionHeads = try c.decodeIfPresent(PerBlock<Int>.self, forKey: .numAttentionHeads)?.values(count: blocks)
        crossAttentionDim = try c.decodeIfPresent(Int.self, forKey: .crossAttentionDim) ?? 768
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? 32
        normEps = try c.decodeIfPresent(Float.self, forKey: .normEps) ?? 1e-5
        flipSinToCos = try c.decodeIfPresent(Bool.self, forKey: .flipSinToCos) ?? true
        freqShift = try c.decodeIfPresent(Int.self, forKey: .freqShift) ?? 0
        downsamplePadding = try c.decodeIfPresent(Int.self, forKey: .downsamplePadding) ?? 1
        useLinearProjection = try c.decodeIfPresent(Bool.self, forKey: .useLinearProjection) ?? false
        centerInputSample = try c.decodeIfPresent(Bool.self, forKey: .centerInputSample) ?? false
        midBlockScaleFactor = try c.decodeIfPresent(Float.self, forKey: .midBlockScaleFactor) ?? 1
        sampleSize = try c.decodeIfPresent(Int.self, forKey: .sampleSize) ?? 64
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn) ?? "silu"
        onlyCrossAttention = try c.decodeIfPresent(IntOrBoolList.self, forKey: .onlyCrossAttention)?.anyTrue ?? false
        dualCrossAttention = try c.decodeIfPresent(Bool.self, forKey: .dualCrossAttention) ?? false
        classEmbedType = try c.decodeIfPresent(String.self, forKey: .classEmbedType)
        additionEmbedType = try c.decodeIfPresent(String.self, forKey: .additionEmbedType)
        additionTimeEmbedDim = try c.decodeIfPresent(Int.self, forKey: .additionTimeEmbedDim)
        projectionClassEmbeddingsInputDim = try c.decodeIfPresent(Int.self, forKey: .projectionClassEmbeddingsInputDim)
        timeCondProjDim = try c.decodeIfPresent(Int.self, forKey: .timeCondProjDim)
        encoderHidDim = try c.decodeIfPresent(Int.self, forKey: .encoderHidDim)
        timeEmbeddingType = try c.decodeIfPresent(String.self, forKey: .timeEmbeddingType) ?? "positional"
        resnetTimeScaleShift = try c.decodeIfPresent(String.self, forKey: .resnetTimeScaleShift) ?? "default"
        convInKernel = try c.decodeIfPresent(Int.self, forKey: .convInKernel) ?? 3
        convOutKernel = try c.decodeIfPresent(Int.self, forKey: .convOutKernel) ?? 3
        attentionType = try c.decodeIfPresent(String.self, forKey: .attentionType) ?? "default"
        upcastAttention = try c.decodeIfPresent(Bool.self, forKey: .upcastAttention) ?? false
        timeEmbeddingDim = try c.decodeIfPresent(Int.self, forKey: .timeEmbeddingDim)
        timeEmbeddingActFn = try c.decodeIfPresent(String.self, forKey: .timeEmbeddingActFn)
        timestepPostAct = try c.decodeIfPresent(String.self, forKey: .timestepPostAct)
        crossAttentionNorm = try c.decodeIfPresent(String.self, forKey: .crossAttentionNorm)
        resnetSkipTimeAct = try c.decodeIfPresent(Bool.self, forKey: .resnetSkipTimeAct) ?? false
        resnetOutScaleFactor = try c.decodeIfPresent(Float.self, forKey: .resnetOutScaleFactor) ?? 1
    }

    /// Decodes and validates `config.json` at `url`; errors name the file.
    public static func load(from url: URL) throws -> UNetConfiguration {
        let config = try ModelDirectory.decodeJSON(UNetConfiguration.self, from: url)
        try config.validate()
        return config
    }

    /// Width of the pooled text embedding a `text_time` UNet expects (the projection input minus
    /// the six embedded micro-conditioning ids), nil for other UNets.
    public var pooledTextDimension: Int? {
        guard additionEmbedType == "text_time", let p = projectionClassEmbeddingsInputDim, let d = additionTimeEmbedDim else { return nil }
        return p - 6 * d
    }

    /// The transformer depth of each layer of down block `i` (its `layersPerBlock[i]` layers).
    public func downTransformerLayers(_ i: Int) throws -> [Int] {
        try transformerLayersPerBlock[i].depths(layers: layersPerBlock[i], field: "transformer_layers_per_block[\(i)]")
    }

    /// The transformer depth of each layer of up block `i` (`reversed(layersPerBlock)[i] + 1` layers).
    public func upTransformerLayers(_ i: Int) throws -> [Int] {
        let n = blockOutChannels.count
        return try (reverseTransformerLayersPerBlock ?? transformerLayersPerBlock.reversed())[i]
            .depths(layers: layersPerBlock[n - 1 - i] + 1, field: "reverse_transformer_layers_per_block[\(i)]")
    }

    /// The mid block's transformer depth: diffusers hands it the last down entry, whose first
    /// depth its single transformer takes.
    public var midTransformerLayers: Int { transformerLayersPerBlock[blockOutChannels.count - 1].first }

    /// Checks that the configuration describes an architecture this engine implements.
    public func validate() throws {
        func fail(_ s: String) -> UNetError { .invalidConfiguration(s) }
        let n = blockOutChannels.count
        guard n > 0 else { throw fail("block_out_channels is empty") }
        guard downBlockTypes.count == n, upBlockTypes.count == n else {
            throw fail("down_block_types (\(downBlockTypes.count)) and up_block_types (\(upBlockTypes.count)) must match block_out_channels (\(n))")
        }
        for t in downBlockTypes where t != "CrossAttnDownBlock2D" && t != "DownBlock2D" {
            throw fail("unsupported down block type \(t)")
        }
        for t in upBlockTypes where t != "CrossAttnUpBlock2D" && t != "UpBlock2D" {
            throw fail("unsupported up block type \(t)")
        }
        if let m = midBlockType, m != "UNetMidBlock2DCrossAttn" && m != "UNetMidBlock2D" { throw fail("unsupported mid_block_type \(m)") }
        if let r = reverseTransformerLayersPerBlock, r.count != n { throw fail("reverse_transformer_layers_per_block must have \(n) entries") }
        if reverseTransformerLayersPerBlock == nil, transformerLayersPerBlock.contains(where: \.isPerLayer) {
            throw fail("per-layer transformer_layers_per_block lists need reverse_transformer_layers_per_block (as diffusers requires)")
        }
        guard normNumGroups >= 1 else { throw fail("norm_num_groups must be ≥ 1, got \(normNumGroups)") }
        for c in blockOutChannels where c <= 0 || c % normNumGroups != 0 {
            throw fail("block_out_channels \(c) is not a positive multiple of norm_num_groups \(normNumGroups)")
        }
        for (i, h) in attentionHeadDim.enumerated() where h <= 0 || blockOutChannels[i] % h != 0 {
            throw fail("attention_head_dim \(h) (legacy: heads) does not divide \(blockOutChannels[i]) channels")
        }
        if layersPerBlock.contains(where: { $0 < 1 }) { throw fail("layers_per_block must be ≥ 1") }
        if transformerLayersPerBlock.contains(where: \.hasNegative) || reverseTransformerLayersPerBlock?.contains(where: \.hasNegative) == true {
            throw fail("transformer depths must be ≥ 0")
        }
        for i in 0..<n {
            try transformerLayersPerBlock[i].check(layers: layersPerBlock[i], field: "transformer_layers_per_block[\(i)]")
            try (reverseTransformerLayersPerBlock ?? transformerLayersPerBlock.reversed())[i]
                .check(layers: layersPerBlock[n - 1 - i] + 1, field: "reverse_transformer_layers_per_block[\(i)]")
        }
        if numAttentionHeads != nil { throw fail("num_attention_heads is not supported (diffusers rejects it for this model too)") }
        if actFn != "silu" { throw fail("act_fn \(actFn) is not supported (only silu)") }
        if onlyCrossAttention { throw fail("only_cross_attention true is not supported") }
        if dualCrossAttention { throw fail("dual_cross_attention is not supported") }
        if let t = classEmbedType { throw fail("class_embed_type \(t) is not supported") }
        if let t = additionEmbedType {
            guard t == "text_time" else { throw fail("addition_embed_type \(t) is not supported (only text_time)") }
            guard let d = additionTimeEmbedDim, d > 0, d % 2 == 0 else {
                throw fail("addition_embed_type text_time needs an even positive addition_time_embed_dim")
            }
            guard let p = projectionClassEmbeddingsInputDim, p > 6 * d else {
                throw fail("addition_embed_type text_time needs projection_class_embeddings_input_dim > 6 × addition_time_embed_dim")
            }
        }
        if let d = timeCondProjDim, d < 4 || d % 2 != 0 { throw fail("time_cond_proj_dim must be even and ≥ 4, got \(d)") }
        if encoderHidDim != nil { throw fail("encoder_hid_dim is not supported") }
        if timeEmbeddingType != "positional" { throw fail("time_embedding_type \(timeEmbeddingType) is not supported") }
        if resnetTimeScaleShift != "default" { throw fail("resnet_time_scale_shift \(resnetTimeScaleShift) is not supported") }
        if convInKernel != 3 || convOutKernel != 3 { throw fail("conv_in_kernel/conv_out_kernel must be 3") }
        if attentionType != "default" { throw fail("attention_type \(attentionType) is not supported") }
        if downsamplePadding != 1 { throw fail("downsample_padding \(downsamplePadding) is not supported (only 1)") }
        if let d = timeEmbeddingDim { throw fail("time_embedding_dim \(d) is not supported") }
        if let a = timeEmbeddingActFn { throw fail("time_embedding_act_fn \(a) is not supported") }
        if let a = timestepPostAct { throw fail("timestep_post_act \(a) is not supported") }
        if let n = crossAttentionNorm { throw fail("cross_attention_norm \(n) is not supported") }
        if resnetSkipTimeAct { throw fail("resnet_skip_time_act true is not supported") }
        if resnetOutScaleFactor != 1 { throw fail("resnet_out_scale_factor \(resnetOutScaleFactor) is not supported (only 1)") }
        if midBlockScaleFactor != 1 { throw fail("mid_block_scale_factor \(midBlockScaleFactor) is not supported (only 1)") }
        if centerInputSample { throw fail("center_input_sample true is not supported") }
        if blockOutChannels[0] % 2 != 0 { throw fail("block_out_channels[0] must be even (sinusoidal time embedding)") }
    }
}

/// A per-block JSON value as diffusers accepts it: one value for every block or a list with one
/// per down block (`int | tuple[int]`; for transformer depths the entries may themselves be
/// per-layer lists, which `LayerDepths` decodes).
private enum PerBlock<Element: Decodable>: Decodable {
    case one(Element), list([Element])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // The list first: a flat list of depths is one depth per block, not one block's layers.
        if let l = try? c.decode([Element].self) { self = .list(l) } else { self = .one(try c.decode(Element.self)) }
    }

    func values(count: Int) throws -> [Element] {
        switch self {
        case .one(let v): return Array(repeating: v, count: count)
        case .list(let l):
            guard l.count == count else {
                throw UNetError.invalidConfiguration("per-block list \(l) must have \(count) entries (one per down block)")
            }
            return l
        }
    }
}

/// diffusers' `only_cross_attention: bool | tuple[bool]`.
private enum IntOrBoolList: Decodable {
    case one(Bool), list([Bool])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Bool.self) { self = .one(v) } else { self = .list(try c.decode([Bool].self)) }
    }

    var anyTrue: Bool {
        switch self {
        case .one(let v): return v
        case .list(let l): return l.contains(true)
        }
    }
}

/// The transformer depth of a block's layers: one depth for every layer, or one per layer
/// (diffusers' nested `transformer_layers_per_block` lists, SSD-1B and Segmind-Vega).
public enum LayerDepths: Sendable, Equatable, Decodable, ExpressibleByIntegerLiteral {
    case uniform(Int)
    case perLayer([Int])

    public init(integerLiteral value: Int) { self = .uniform(value) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { self = .uniform(v) } else { self = .perLayer(try c.decode([Int].self)) }
    }

    /// The depth of each of `layers` layers; a per-layer list must have exactly that many.
    func depths(layers: Int, field: String) throws -> [Int] {
        try check(layers: layers, field: field)
        switch self {
        case .uniform(let d): return Array(repeating: d, count: layers)
        case .perLayer(let l): return l
        }
    }

    /// Throws unless a per-layer list has exactly `layers` depths (allocates nothing, so
    /// validating a configuration with absurd layer counts stays cheap).
    func check(layers: Int, field: String) throws {
        if case .perLayer(let l) = self, l.count != layers {
            throw UNetError.invalidConfiguration("\(field) lists \(l.count) depths \(l) for a block of \(layers) layers")
        }
    }

    /// The first layer's depth.
    var first: Int {
        switch self {
        case .uniform(let d): return d
        case .perLayer(let l): return l.first ?? 0
        }
    }

    var isPerLayer: Bool { if case .perLayer = self { return true } else { return false } }
    var hasNegative: Bool {
        switch self {
        case .uniform(let d): return d < 0
        case .perLayer(let l): return l.contains { $0 < 0 }
        }
    }
}
