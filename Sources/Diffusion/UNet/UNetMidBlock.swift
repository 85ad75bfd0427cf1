import TensorCore

/// diffusers' mid blocks at the innermost stage: `UNetMidBlock2DCrossAttn` (resnet → transformer
/// → resnet) or, without a transformer, `UNetMidBlock2D` as `get_mid_block` builds it for
/// UNet2DConditionModel (`num_layers=0`, `add_attention=False`: a single resnet; SSD-1B, Vega).
public struct UNetMidBlock: Sendable {
    public let resnets: [ResnetBlock2D]
    /// nil for `UNetMidBlock2D`.
    public let attention: Transformer2DModel?

    /// `transformerLayers` nil builds the resnet-only `UNetMidBlock2D`.
    init(_ w: WeightStore, channels: Int, transformerLayers: Int?, heads: Int, configuration c: UNetConfiguration, timeEmbeddingDimension: Int) throws {
        resnets = try (0..<(transformerLayers == nil ? 1 : 2)).map {
            try ResnetBlock2D(w.scoped("resnets.\($0)"), in: channels, out: channels,
                              timeEmbeddingDimension: timeEmbeddingDimension, groups: c.normNumGroups, eps: c.normEps)
        }
        attention = try transformerLayers.map {
            try Transformer2DModel(w.scoped("attentions.0"), channels: channels, contextDimension: c.crossAttentionDim,
                                   heads: heads, layers: $0, groups: c.normNumGroups, linearProjection: c.useLinearProjection)
        }
    }

    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor, context: Tensor, attention accelerator: AttentionAccelerator? = nil) -> Tensor {
        let h = resnets[0](x, timeEmbedding: timeEmbedding)
        guard let attention else { return h }
        return resnets[1](attention(h, context: context, attention: accelerator), timeEmbedding: timeEmbedding)
    }
}
