import TensorCore

/// diffusers' `CrossAttnDownBlock2D` (with `attentions`) or `DownBlock2D` (without): a
/// (resnet, transformer) pair per layer (`transformerLayers`: each transformer's depth), then an optional stride-2 3×3 `downsamplers.0.conv`.
/// Every layer's output and the downsampled output are skip features for the up path.
public struct UNetDownBlock: Sendable {
    public let resnets: [ResnetBlock2D]
    /// Empty for `DownBlock2D`.
    public let attentions: [Transformer2DModel]
    let downsampler: Conv2dWeight?

    init(_ w: WeightStore, type: String, in inChannels: Int, out outChannels: Int, layers: Int, transformerLayers: [Int],
         heads: Int, configuration c: UNetConfiguration, timeEmbeddingDimension: Int, addDownsample: Bool) throws {
        resnets = try (0..<layers).map {
            try ResnetBlock2D(w.scoped("resnets.\($0)"), in: $0 == 0 ? inChannels : outChannels, out: outChannels,
                              timeEmbeddingDimension: timeEmbeddingDimension, groups: c.normNumGroups, eps: c.normEps)
        }
        attentions = type == "CrossAttnDownBlock2D" ? try (0..<layers).map {
            try Transformer2DModel(w.scoped("attentions.\($0)"), channels: outChannels, contextDimension: c.crossAttentionDim,
                                   heads: heads, layers: transformerLayers[$0], groups: c.normNumGroups,
                                   linearProjection: c.useLinearProjection)
        } : []
        downsampler = addDownsample
            ? try w.conv2d("downsamplers.0.conv", in: outChannels, out: outChannels, kernel: 3, stride: 2, padding: c.downsamplePadding)
            : nil
    }

    /// Runs the block on NHWC `x`, appending its skip features to `skips`; returns the output.
    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor, context: Tensor, skips: inout [Tensor],
                               attention: AttentionAccelerator? = nil) -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            h = resnet(h, timeEmbedding: timeEmbedding)
            if !attentions.isEmpty { h = attentions[i](h, context: context, attention: attention) }
            skips.append(h)
        }
        if let downsampler {
            h = conv2d(h, downsampler)
            skips.append(h)
        }
        return h
    }
}
