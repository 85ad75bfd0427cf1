import Diffusion
import Foundation

/// A tiny SDXL-family server/device set with deterministic random weights, shaped like the
/// paper's pairs but a few channels wide: CLIP ViT-L- and bigG-shaped text encoders (the second
/// with a projection; `tokenizer_2` pads with `!`), an SDXL-shaped server UNet and its
/// LCM-SDXL twin (`time_cond_proj_dim`), a KOALA-700M-shaped device UNet (one resnet per down
/// stage, no mid block), an SDXL-scaled VAE and SDXL's schedule. Used by the network tests and
/// `bench modes` so the SDXL protocol runs end to end in seconds. Images are noise.
public struct TinySDXLModels: Sendable {
    public let promptEncoder: PromptEncoder
    /// SDXL-shaped: no attention in the first stage, transformer depths [1, 2, 3].
    public let serverUNet: UNet2DConditionModel
    /// The same shape with LCM's 256-wide guidance embedding (its own weights).
    public let lcmUNet: UNet2DConditionModel
    /// KOALA-700M-shaped: depths [1, 2, 2], one layer per block, no mid block.
    public let deviceUNet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let schedulerConfig: SchedulerConfig

    public init(seed: UInt64 = 0) throws {
        let tokenizer = try CLIPTokenizer.bundled()
        func encoder(hidden: Int, activation: CLIPTextConfiguration.Activation, seed: UInt64, projection: Bool) throws -> CLIPTextModel {
            try CLIPTextModel(configuration: CLIPTextConfiguration(vocabSize: tokenizer.vocabulary.count, hiddenSize: hidden,
                                                                   intermediateSize: 2 * hidden, numHiddenLayers: 2, numAttentionHeads: 2,
                                                                   hiddenAct: activation, projectionDim: hidden),
                              weights: .random(seed: seed), withProjection: projection)
        }
        promptEncoder = try PromptEncoder(
            first: .init(tokenizer: tokenizer, model: try encoder(hidden: 16, activation: .quickGelu, seed: seed, projection: false)),
            second: .init(tokenizer: try tokenizer.padding(with: "!"),
                          model: try encoder(hidden: 32, activation: .gelu, seed: seed &+ 1, projection: true)))
        func shape(layers: Int, depths: [LayerDepths], mid: Bool, lcm: Bool) -> UNetConfiguration {
            var c = UNetConfiguration(blockOutChannels: [16, 32, 32], downBlockTypes: UNetConfiguration.sdxl.downBlockTypes,
                                      upBlockTypes: UNetConfiguration.sdxl.upBlockTypes, midBlockType: mid ? "UNetMidBlock2DCrossAttn" : nil,
                                      layersPerBlock: layers, crossAttentionDim: 48, normNumGroups: 8, useLinearProjection: true)
            c.transformerLayersPerBlock = depths
            c.attentionHeadDim = [1, 2, 4]
            c.additionEmbedType = "text_time"
            c.additionTimeEmbedDim = 8
            c.projectionClassEmbeddingsInputDim = 32 + 6 * 8
            c.timeCondProjDim = lcm ? 256 : nil
            return c
        }
        serverUNet = try UNet2DConditionModel(configuration: shape(layers: 2, depths: [1, 2, 3], mid: true, lcm: false), weights: .random(seed: seed &+ 2))
        lcmUNet = try UNet2DConditionModel(configuration: shape(layers: 2, depths: [1, 2, 3], mid: true, lcm: true), weights: .random(seed: seed &+ 3))
        deviceUNet = try UNet2DConditionModel(configuration: shape(layers: 1, depths: [1, 2, 2], mid: false, lcm: false), weights: .random(seed: seed &+ 4))
        vae = try AutoencoderKL(configuration: AutoencoderKLConfiguration(blockOutChannels: [16, 16, 16, 16], layersPerBlock: 1, normNumGroups: 8,
                                                                          scalingFactor: AutoencoderKLConfiguration.sdxl.scalingFactor),
                                weights: .random(seed: seed &+ 5))
        schedulerConfig = .stableDiffusionXL
    }

    /// The device's share.
    public var device: DeviceModels {
        DeviceModels(promptEncoder: promptEncoder, unet: deviceUNet, vae: vae, schedulerConfig: schedulerConfig)
    }
}
