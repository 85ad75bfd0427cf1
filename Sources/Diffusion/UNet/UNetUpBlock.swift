import TensorCore

/// diffusers' `CrossAttnUpBlock2D` (with `attentions`) or `UpBlock2D` (without): each layer
/// concatenates `[hidden, skip]` along channels (hidden first), runs a resnet and, if present, a
/// transformer; then an optional nearest-×2 upsample + 3×3 `upsamplers.0.conv`.
public struct UNetUpBlock: Sendable {
    public let resnets: [ResnetBlock2D]
    /// Empty for `UpBlock2D`.
    public let attentions: [Transformer2DModel]
    let upsampler: Conv2dWeight?

    /// `previousOut`: channels arriving from below; `skipIn`: channels of the matching down
    /// stage's input (diffusers' `in_channels`), used by the last layer's skip; `transformerLayers`:
    /// each layer's transformer depth.
    init(_ w: WeightStore, type: String, skipIn: Int, previousOut: Int, out outChannels: Int, layers: Int, transformerLayers: [Int],
         heads: Int, configuration c: UNetConfiguration, timeEmbeddingDimension: Int, addUpsample: Bool) throws {
        resnets = try (0..<layers).map { j in
            let skip = j == layers - 1 ? skipIn : outChannels
            let hidden = j == 0 ? previousOut : outChannels
            return try ResnetBlock2D(w.scoped("resnets.\(j)"), in: hidden + skip, out: outChannels,
                                     timeEmbeddingDimension: timeEmbeddingDimension, groups: c.normNumGroups, eps: c.normEps)
        }
        attentions = type == "CrossAttnUpBlock2D" ? try (0..<layers).map {
            try Transformer2DModel(w.scoped("attentions.\($0)"), channels: outChannels, contextDimension: c.crossAttentionDim,
                                   heads: heads, layers: transformerLayers[$0], groups: c.normNumGroups,
                                   linearProjection: c.useLinearProjection)
        } : []
        upsampler = addUpsample
            ? try w.conv2d("upsamplers.0.conv", in: outChannels, out: outChannels, kernel: 3, padding: 1, upsampledInput: true) : nil
    }

    /// Runs the block on NHWC `x`, consuming (and releasing) one skip feature per resnet from
    /// the end of `skips`.
    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor, context: Tensor, skips: inout [Tensor],
                               attention: AttentionAccelerator? = nil) -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            h = resnet(concatLastAxis([h, skips.removeLast()]), timeEmbedding: timeEmbedding)
            if !attentions.isEmpty { h = attentions[i](h, context: context, attention: attention) }
        }
        if let upsampler { h = conv2d(h, upsampler, upsampled: true) }
        return h
    }
}
