import TensorCore

/// The decoder half of diffusers' `AutoencoderKL` (SD1.x VAE): `post_quant_conv` → `decoder.*`
/// (conv_in, mid block resnet/attention/resnet, up blocks, GroupNorm → SiLU → conv_out).
/// Every GroupNorm uses eps 1e-6.
public struct AutoencoderKL: Sendable {
    public let configuration: AutoencoderKLConfiguration
    let postQuantConv: Conv2dWeight?
    let convIn: Conv2dWeight
    let midResnets: [ResnetBlock2D]
    let midAttention: VAEAttentionBlock?
    let upBlocks: [VAEDecoderUpBlock]
    let normOut: (weight: Tensor, bias: Tensor)
    let convOut: Conv2dWeight
    static let eps: Float = 1e-6

    /// Builds the decoder from the `vae/` component store (encoder weights are ignored).
    public init(configuration c: AutoencoderKLConfiguration, weights w: WeightStore) throws {
        try c.validate()
        configuration = c
        let channels = c.blockOutChannels, top = channels[channels.count - 1], groups = c.normNumGroups
        postQuantConv = c.usePostQuantConv
            ? try w.conv2d("post_quant_conv", in: c.latentChannels, out: c.latentChannels, kernel: 1) : nil
        // Each level's convolutions pick their method for the feature side they see at the native
        // sample size: the latents' side, doubled by each up block's upsampler.
        let d = w.scoped("decoder")
        let latentSide = Swift.max(1, c.sampleSize >> (channels.count - 1))
        let latent = d.at(featureSide: latentSide)
        convIn = try latent.conv2d("conv_in", in: c.latentChannels, out: top, kernel: 3, padding: 1)
        midResnets = try (0..<2).map {
            try ResnetBlock2D(latent.scoped("mid_block.resnets.\($0)"), in: top, out: top, timeEmbeddingDimension: nil,
                              groups: groups, eps: Self.eps)
        }
        midAttention = c.midBlockAddAttention
            ? try VAEAttentionBlock(d.scoped("mid_block.attentions.0"), channels: top, groups: groups) : nil
        let reversed = Array(channels.reversed())
        var previous = top
        var blocks: [VAEDecoderUpBlock] = []
        for (i, out) in reversed.enumerated() {
            blocks.append(try VAEDecoderUpBlock(d.scoped("up_blocks.\(i)").at(featureSide: latentSide << i), in: previous, out: out, layers: c.layersPerBlock + 1,
                                                groups: groups, addUpsample: i < reversed.count - 1))
            previous = out
        }
        upBlocks = blocks
        normOut = try d.norm("conv_norm_out", channels: channels[0])
        convOut = try d.at(featureSide: latentSide << (channels.count - 1)).conv2d("conv_out", in: channels[0], out: c.outChannels, kernel: 3, padding: 1)
    }

    /// Output pixels per latent pixel along each axis.
    public var upscale: Int { 1 << (configuration.blockOutChannels.count - 1) }

    /// The raw decoder output (≈[-1, 1]) for NHWC latents that are already unscaled.
    public func decoder(_ z: Tensor) -> Tensor {
        var h = postQuantConv.map { conv2d(z, $0) } ?? z
        h = conv2d(h, convIn)
        h = midResnets[0](h, timeEmbedding: nil)
        if let midAttention { h = midAttention(h) }
        h = midResnets[1](h, timeEmbedding: nil)
        for block in upBlocks { h = block(h) }
        h = groupNorm(h, groups: configuration.normNumGroups, weight: normOut.weight, bias: normOut.bias, eps: Self.eps, silu: true)
        return conv2d(h, convOut)
    }

    /// Decodes NCHW diffusion latents `[b, latentChannels, h, w]` (as the UNet produces them,
    /// i.e. still multiplied by `scaling_factor`) into NHWC images `[b, H, W, outChannels]` in
    /// [0, 1] (`clamp(x/2 + 0.5)`). Images are decoded one at a time to bound peak memory.
    public func decode(_ latents: Tensor) throws -> Tensor {
        let c = configuration
        guard latents.rank == 4, latents.shape[1] == c.latentChannels, latents.shape[2] > 0, latents.shape[3] > 0 else {
            throw UNetError.invalidInput("vae: latents must be NCHW [batch, \(c.latentChannels), height, width], got \(latents.shape)")
        }
        let inverseScale = 1 / c.scalingFactor, shift = c.shiftFactor ?? 0
        var images: [Tensor] = []
        for i in 0..<latents.shape[0] {
            let z = nchwToNHWC(latents.slice(i, 1))
            for j in 0..<z.count { z.pointer[j] = z.pointer[j] * inverseScale + shift }
            let x = decoder(z)
            for j in 0..<x.count { x.pointer[j] = Swift.min(Swift.max(x.pointer[j] / 2 + 0.5, 0), 1) }
            images.append(x)
        }
        return concatBatch(images)
    }
}
