import TensorCore

/// diffusers' `ResnetBlock2D` (pre-norm, `time_embedding_norm: default`, output scale 1):
/// `GroupNorm → SiLU → conv3×3 (+ Linear(SiLU(temb))) → GroupNorm → SiLU → conv3×3`, plus the
/// input (through a 1×1 `conv_shortcut` when the channel count changes). Shared by the UNet and
/// the VAE (which has no time embedding). NHWC in and out.
public struct ResnetBlock2D: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    let groups: Int
    let eps: Float
    let norm1: (weight: Tensor, bias: Tensor)
    let conv1: Conv2dWeight
    let timeProjection: LinearWeight?
    let norm2: (weight: Tensor, bias: Tensor)
    let conv2: Conv2dWeight
    let shortcut: Conv2dWeight?

    /// `timeEmbeddingDimension: nil` builds the VAE variant without `time_emb_proj`.
    init(_ w: WeightStore, in inChannels: Int, out outChannels: Int, timeEmbeddingDimension: Int?, groups: Int, eps: Float) throws {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.groups = groups
        self.eps = eps
        norm1 = try w.norm("norm1", channels: inChannels)
        conv1 = try w.conv2d("conv1", in: inChannels, out: outChannels, kernel: 3, padding: 1)
        timeProjection = try timeEmbeddingDimension.map { try w.linear("time_emb_proj", in: $0, out: outChannels) }
        norm2 = try w.norm("norm2", channels: outChannels)
        conv2 = try w.conv2d("conv2", in: outChannels, out: outChannels, kernel: 3, padding: 1)
        shortcut = inChannels == outChannels ? nil
            : try w.conv2d("conv_shortcut", in: inChannels, out: outChannels, kernel: 1)
    }

    /// `timeEmbedding` is the UNet's `[batch, temb]` embedding (before SiLU), or `nil` for the VAE.
    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor?) -> Tensor {
        // The time embedding's projection is added as conv1's per-image bias, the shortcut as
        // conv2's residual: both ride along with the convolutions' stores.
        var imageBias: Tensor?
        if let timeProjection, let timeEmbedding { imageBias = linear(silu(timeEmbedding), timeProjection) }
        // Each GroupNorm+SiLU is handed to its convolution, whose Winograd gather applies it.
        let h = conv2d(x, conv1, normalizedBy: groupNormAffine(x, groups: groups, weight: norm1.weight, bias: norm1.bias, eps: eps, silu: true),
                       addingPerImage: imageBias)
        return conv2d(h, conv2, normalizedBy: groupNormAffine(h, groups: groups, weight: norm2.weight, bias: norm2.bias, eps: eps, silu: true),
                      adding: shortcut.map { conv2d(x, $0) } ?? x)
    }
}
