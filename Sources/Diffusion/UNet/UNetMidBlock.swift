import TensorCore

/// diffusers' `UNetMidBlock2DCrossAttn`: resnet → transformer → resnet at the innermost stage.
public struct UNetMidBlock: Sendable {
    public let resnets: [ResnetBlock2D]
    public let attention: Transformer2DModel

    init(_ w: WeightStore, channels: Int, transformerLayers: Int, heads: Int, configuration c: UNetConfiguration, timeEmbeddingDimension: Int) throws {
        resnets = try (0..<2).map {
            try ResnetBlock2D(w.scoped("resnets.\($0)"), in: channels, out: channels,
                              timeEmbeddingDimension: timeEmbeddingDimension, groups: c.normNumGroups, eps: c.normEps)
        }
        attention = try Transformer2DModel(w.scoped("attentions.0"), channels: channels, contextDimension: c.crossAttentionDim,
                                           heads: heads, layers: transformerLayers, groups: c.normNumGroups,
                                           linearProjection: c.useLinearProjection)
    }

    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor, context: Tensor, attention accelerator: AttentionAccelerator? = nil) -> Tensor {
        let h = attention(resnets[0](x, timeEmbedding: timeEmbedding), context: context, attention: accelerator)
        return resnets[1](h, timeEmbedding: timeEmbedding)
    }
}
