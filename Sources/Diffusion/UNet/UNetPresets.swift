/// Built-in UNet architectures of the SD1.x and SDXL families, so benchmarks and cost models can
/// build any of them (with `WeightStore.random`) without model files. Sources of every preset's
/// numbers are in docs/DECISIONS.md.
extension UNetConfiguration {
    /// Stable Diffusion 1.4/1.5 and fine-tunes (Realistic Vision): 859 M parameters.
    public static let sd15 = UNetConfiguration()

    /// BK-SDM-Base (nota-ai): one resnet+attention per down stage (two per up stage), mid block kept.
    public static let bkSDMBase = UNetConfiguration(layersPerBlock: 1)

    /// BK-SDM-Small: BK-SDM-Base without the mid block.
    public static let bkSDMSmall = UNetConfiguration(midBlockType: nil, layersPerBlock: 1)

    /// BK-SDM-Tiny: BK-SDM-Small without the innermost 1280-channel stage (three attention stages).
    public static let bkSDMTiny = UNetConfiguration(
        blockOutChannels: [320, 640, 1280],
        downBlockTypes: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        upBlockTypes: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        midBlockType: nil, layersPerBlock: 1)

    /// segmind small-sd: segmind's distill-sd `prepare_unet("sd_small")` drops the second
    /// resnet/attention of every down stage and the third of every up stage and keeps the mid
    /// block — the BK-SDM-Base structure.
    public static let smallSD = bkSDMBase

    /// segmind tiny-sd: `prepare_unet("sd_tiny")` additionally drops the mid block and the
    /// innermost stage — the BK-SDM-Tiny structure.
    public static let tinySD = bkSDMTiny

    /// Stable Diffusion XL 1.0 base (stabilityai/stable-diffusion-xl-base-1.0 `unet/config.json`):
    /// three stages, no attention in the first, transformer depths [1, 2, 10] (the first unused),
    /// 5/10/20 heads of 64 channels, linear projections, 2048-wide cross-attention, and the
    /// `text_time` added embedding (1280 pooled + 6 × 256 micro-conditioning sinusoids): 2.57 B parameters.
    public static let sdxl: UNetConfiguration = {
        var c = UNetConfiguration(blockOutChannels: [320, 640, 1280],
                                  downBlockTypes: ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                                  upBlockTypes: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                                  crossAttentionDim: 2048, useLinearProjection: true, sampleSize: 128)
        c.transformerLayersPerBlock = [1, 2, 10]
        c.attentionHeadDim = [5, 10, 20]
        c.additionEmbedType = "text_time"
        c.additionTimeEmbedDim = 256
        c.projectionClassEmbeddingsInputDim = 2816
        return c
    }()

    /// LCM-SDXL (latent-consistency/lcm-sdxl): SDXL's UNet plus the 256-wide guidance-scale
    /// embedding `time_embedding.cond_proj`.
    public static let lcmSDXL: UNetConfiguration = {
        var c = sdxl
        c.timeCondProjDim = 256
        return c
    }()

    /// KOALA-1B (etri-vilab/koala-1b): SDXL with one resnet(+transformer) per down stage (two per
    /// up stage) and the innermost stage's transformer depth 10 → 6, mid block kept.
    public static let koala1B: UNetConfiguration = {
        var c = sdxl
        c.layersPerBlock = [1, 1, 1]
        c.transformerLayersPerBlock = [1, 2, 6]
        return c
    }()

    /// KOALA-700M (etri-vilab/koala-700m): KOALA-1B with the innermost depth 6 → 5 and no mid block.
    public static let koala700M: UNetConfiguration = {
        var c = koala1B
        c.transformerLayersPerBlock = [1, 2, 5]
        c.midBlockType = nil
        return c
    }()

    /// SSD-1B (segmind/SSD-1B): SDXL with per-layer transformer depths — down [2, 2] and [4, 4],
    /// up [4, 4, 10] and [2, 1, 1] — and a resnet-only mid block: 1.33 B parameters.
    public static let ssd1B: UNetConfiguration = {
        var c = sdxl
        c.transformerLayersPerBlock = [.perLayer([1, 1]), .perLayer([2, 2]), .perLayer([4, 4])]
        c.reverseTransformerLayersPerBlock = [.perLayer([4, 4, 10]), .perLayer([2, 1, 1]), .perLayer([1, 1, 1])]
        c.midBlockType = "UNetMidBlock2D"
        return c
    }()

    /// Segmind-Vega (segmind/Segmind-Vega): SDXL with transformer depths [1, 2] (down and up
    /// alike) and a resnet-only mid block: 745 M parameters.
    public static let vega: UNetConfiguration = {
        var c = sdxl
        c.transformerLayersPerBlock = [1, 1, 2]
        c.midBlockType = "UNetMidBlock2D"
        return c
    }()

    /// Preset names accepted by `preset(named:)`, in display order.
    public static let presetNames = ["sd15", "bk-sdm-base", "bk-sdm-small", "bk-sdm-tiny", "small-sd", "tiny-sd",
                                     "sdxl", "lcm-sdxl", "koala-1b", "koala-700m", "ssd-1b", "vega"]

    /// The preset called `name` (see `presetNames`), or `nil`.
    public static func preset(named name: String) -> UNetConfiguration? {
        switch name.lowercased() {
        case "sd15", "sd14", "sd1.5", "sd1.4": return .sd15
        case "bk-sdm-base": return .bkSDMBase
        case "bk-sdm-small": return .bkSDMSmall
        case "bk-sdm-tiny": return .bkSDMTiny
        case "small-sd": return .smallSD
        case "tiny-sd": return .tinySD
        case "sdxl", "sdxl-1.0": return .sdxl
        case "lcm-sdxl": return .lcmSDXL
        case "koala-1b": return .koala1B
        case "koala-700m": return .koala700M
        case "ssd-1b": return .ssd1B
        case "vega", "segmind-vega": return .vega
        default: return nil
        }
    }
}
