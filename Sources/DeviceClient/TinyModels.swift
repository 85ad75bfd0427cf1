import Diffusion
import Foundation

/// A tiny server/device model pair with deterministic random weights: the SD 1.5 and
/// BK-SDM-small architectures shrunk to a few channels, sharing one small CLIP text encoder as
/// the real pairs share CLIP ViT-L. Used by `obclip demo` and the network tests so the whole
/// protocol runs end to end in seconds without checkpoint files. Images are noise: the weights
/// are random.
public struct TinyModels: Sendable {
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    /// SD 1.5-shaped: cross-attention down/up blocks and a mid block.
    public let serverUNet: UNet2DConditionModel
    /// BK-SDM-small-shaped: one layer per block, no mid block.
    public let deviceUNet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let schedulerConfig: SchedulerConfig

    public init(seed: UInt64 = 0) throws {
        let hidden = 32
        tokenizer = try CLIPTokenizer.bundled()
        textEncoder = try CLIPTextModel(
            configuration: CLIPTextConfiguration(vocabSize: tokenizer.vocabulary.count, hiddenSize: hidden, intermediateSize: 64,
                                                 numHiddenLayers: 2, numAttentionHeads: 4),
            weights: WeightStore.random(seed: seed))
        let down = ["CrossAttnDownBlock2D", "DownBlock2D"], up = ["UpBlock2D", "CrossAttnUpBlock2D"]
        serverUNet = try UNet2DConditionModel(
            configuration: UNetConfiguration(blockOutChannels: [32, 64], downBlockTypes: down, upBlockTypes: up,
                                             layersPerBlock: 2, attentionHeadDim: 8, crossAttentionDim: hidden, normNumGroups: 8),
            weights: WeightStore.random(seed: seed &+ 1))
        deviceUNet = try UNet2DConditionModel(
            configuration: UNetConfiguration(blockOutChannels: [32, 64], downBlockTypes: down, upBlockTypes: up, midBlockType: nil,
                                             layersPerBlock: 1, attentionHeadDim: 8, crossAttentionDim: hidden, normNumGroups: 8),
            weights: WeightStore.random(seed: seed &+ 2))
        vae = try AutoencoderKL(configuration: AutoencoderKLConfiguration(blockOutChannels: [16, 16, 16, 16], layersPerBlock: 1, normNumGroups: 8),
                                weights: WeightStore.random(seed: seed &+ 3))
        schedulerConfig = .stableDiffusion15
    }

    /// The device's share.
    public var device: DeviceModels {
        DeviceModels(tokenizer: tokenizer, textEncoder: textEncoder, unet: deviceUNet, vae: vae, schedulerConfig: schedulerConfig)
    }
}
