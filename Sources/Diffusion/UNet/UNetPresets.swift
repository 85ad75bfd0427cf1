/// Built-in SD1.x-family UNet architectures, so benchmarks and cost models can build any of them
/// (with `WeightStore.random`) without model files.
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

    /// Preset names accepted by `preset(named:)`, in display order.
    public static let presetNames = ["sd15", "bk-sdm-base", "bk-sdm-small", "bk-sdm-tiny", "small-sd", "tiny-sd"]

    /// The preset called `name` (see `presetNames`), or `nil`.
    public static func preset(named name: String) -> UNetConfiguration? {
        switch name.lowercased() {
        case "sd15", "sd14", "sd1.5", "sd1.4": return .sd15
        case "bk-sdm-base": return .bkSDMBase
        case "bk-sdm-small": return .bkSDMSmall
        case "bk-sdm-tiny": return .bkSDMTiny
        case "small-sd": return .smallSD
        case "tiny-sd": return .tinySD
        default: return nil
        }
    }
}
