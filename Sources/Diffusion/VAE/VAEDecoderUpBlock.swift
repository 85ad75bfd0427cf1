import TensorCore

/// diffusers' `UpDecoderBlock2D`: resnets without time embedding (GroupNorm eps 1e-6), then an
/// optional nearest-×2 upsample + 3×3 `upsamplers.0.conv`. NHWC in and out.
struct VAEDecoderUpBlock: Sendable {
    let resnets: [ResnetBlock2D]
    let upsampler: Conv2dWeight?

    init(_ w: WeightStore, in inChannels: Int, out outChannels: Int, layers: Int, groups: Int, addUpsample: Bool) throws {
        resnets = try (0..<layers).map {
            try ResnetBlock2D(w.scoped("resnets.\($0)"), in: $0 == 0 ? inChannels : outChannels, out: outChannels,
                              timeEmbeddingDimension: nil, groups: groups, eps: AutoencoderKL.eps)
        }
        upsampler = addUpsample
            ? try w.conv2d("upsamplers.0.conv", in: outChannels, out: outChannels, kernel: 3, padding: 1, upsampledInput: true) : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for resnet in resnets { h = resnet(h, timeEmbedding: nil) }
        if let upsampler { h = conv2d(h, upsampler, upsampled: true) }
        return h
    }
}
