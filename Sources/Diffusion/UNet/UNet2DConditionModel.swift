import Foundation
import TensorCore

/// The skip features and innermost hidden state produced by the UNet's down path (and mid
/// block, if any), everything the up path needs. Block-skip accelerations cache this value.
public struct UNetDownFeatures: @unchecked Sendable {
    /// NHWC skip features in production order: `conv_in`'s output, then each down block's.
    public var skips: [Tensor]
    /// NHWC output of the mid block (or of the last down block when there is none).
    public var hidden: Tensor
}

/// diffusers' `UNet2DConditionModel` for the SD1.x family (SD1.4/1.5, BK-SDM, segmind) and the
/// SDXL family (SDXL, KOALA, LCM-SDXL), built from a `UNetConfiguration` and weights whose paths
/// are the checkpoint keys (`down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight`, …).
///
/// The time embedding every resnet receives is `time_embedding(time_proj(t), cond_proj(w))`
/// plus, for SDXL's `text_time`, `add_embedding([pooled | add_time_proj(time_ids)])` — all
/// conditioning besides the text sequence arrives in the `TextConditioning` value.
///
/// The public forward takes and returns NCHW like diffusers; internally everything is NHWC.
/// `downPath` and `upPath` are separate so server accelerations can cache or skip either.
public struct UNet2DConditionModel: Sendable {
    public let configuration: UNetConfiguration
    let timeProjection: SinusoidalEmbedding
    let timeEmbeddingMLP: TimestepEmbedding
    /// SDXL's `add_time_proj` and `add_embedding` (nil without `text_time`).
    let addedEmbedding: (projection: SinusoidalEmbedding, mlp: TimestepEmbedding)?
    public let downBlocks: [UNetDownBlock]
    public let midBlock: UNetMidBlock?
    public let upBlocks: [UNetUpBlock]
    let convIn: Conv2dWeight
    let normOut: (weight: Tensor, bias: Tensor)
    let convOut: Conv2dWeight

    /// Builds the model; `weights` is the `unet/` component store (keys without prefix).
    /// Missing or mis-shaped tensors throw the store's error naming the key.
    public init(configuration c: UNetConfiguration, weights w: WeightStore) throws {
        try c.validate()
        configuration = c
        let channels = c.blockOutChannels, n = channels.count
        let temb = channels[0] * 4
        // Each level's convolutions pick their method for the feature side they see at the
        // native sample size (the down path halves it per stage but the last).
        let native = w.at(featureSide: c.sampleSize)
        func level(_ i: Int) -> Int { Swift.max(1, c.sampleSize >> i) }
        convIn = try native.conv2d("conv_in", in: c.inChannels, out: channels[0], kernel: 3, padding: 1)
        timeProjection = SinusoidalEmbedding(dimension: channels[0], flipSinToCos: c.flipSinToCos, frequencyShift: c.freqShift)
        timeEmbeddingMLP = try TimestepEmbedding(w.scoped("time_embedding"), inputDimension: channels[0], embeddingDimension: temb,
                                                 conditionDimension: c.timeCondProjDim)
        if c.additionEmbedType != nil, let d = c.additionTimeEmbedDim, let p = c.projectionClassEmbeddingsInputDim {
            addedEmbedding = (SinusoidalEmbedding(dimension: d, flipSinToCos: c.flipSinToCos, frequencyShift: c.freqShift),
                              try TimestepEmbedding(w.scoped("add_embedding"), inputDimension: p, embeddingDimension: temb))
        } else {
            addedEmbedding = nil
        }
        var down: [UNetDownBlock] = []
        var previous = channels[0]
        for i in 0..<n {
            down.append(try UNetDownBlock(w.scoped("down_blocks.\(i)").at(featureSide: level(i)), type: c.downBlockTypes[i], in: previous, out: channels[i],
                                          layers: c.layersPerBlock[i], transformerLayers: c.downTransformerLayers(i),
                                          heads: c.attentionHeadDim[i], configuration: c, timeEmbeddingDimension: temb,
                                          addDownsample: i < n - 1))
            previous = channels[i]
        }
        downBlocks = down
        midBlock = c.midBlockType == nil ? nil
            : try UNetMidBlock(w.scoped("mid_block").at(featureSide: level(n - 1)), channels: channels[n - 1],
                               transformerLayers: c.midBlockType == "UNetMidBlock2D" ? nil : c.midTransformerLayers,
                               heads: c.attentionHeadDim[n - 1], configuration: c, timeEmbeddingDimension: temb)
        let reversedChannels = Array(channels.reversed()), reversedLayers = Array(c.layersPerBlock.reversed())
        let reversedHeads = Array(c.attentionHeadDim.reversed())
        var up: [UNetUpBlock] = []
        previous = channels[n - 1]
        for i in 0..<n {
            up.append(try UNetUpBlock(w.scoped("up_blocks.\(i)").at(featureSide: level(n - 1 - i)), type: c.upBlockTypes[i],
                                      skipIn: reversedChannels[min(i + 1, n - 1)], previousOut: previous, out: reversedChannels[i],
                                      layers: reversedLayers[i] + 1, transformerLayers: c.upTransformerLayers(i),
                                      heads: reversedHeads[i], configuration: c, timeEmbeddingDimension: temb,
                                      addUpsample: i < n - 1))
            previous = reversedChannels[i]
        }
        upBlocks = up
        normOut = try w.norm("conv_norm_out", channels: channels[0])
        convOut = try native.conv2d("conv_out", in: channels[0], out: c.outChannels, kernel: 3, padding: 1)
    }

    /// The arithmetic its weights were packed for (one precision per model).
    public var precision: Precision { convIn.precision }

    /// Latent height and width must be multiples of this (one halving per down stage but the last).
    public var spatialMultiple: Int { 1 << (configuration.blockOutChannels.count - 1) }

    /// `conv_in`, the down blocks and the mid block on NHWC `x`; `attention` carries server
    /// accelerations to the attention layers (nil: plain).
    public func downPath(_ x: Tensor, timeEmbedding temb: Tensor, context: Tensor, attention: AttentionAccelerator? = nil) -> UNetDownFeatures {
        var h = conv2d(x, convIn)
        var skips = [h]
        for block in downBlocks { h = block(h, timeEmbedding: temb, context: context, skips: &skips, attention: attention) }
        if let midBlock { h = midBlock(h, timeEmbedding: temb, context: context, attention: attention) }
        return UNetDownFeatures(skips: skips, hidden: h)
    }

    /// The up blocks and the output head; returns the NHWC noise prediction. `features` is left
    /// intact (the skip list is copied, its tensors only read), so a cached value can be reused.
    public func upPath(_ features: UNetDownFeatures, timeEmbedding temb: Tensor, context: Tensor, attention: AttentionAccelerator? = nil) -> Tensor {
        var skips = features.skips
        var h = features.hidden
        for block in upBlocks { h = block(h, timeEmbedding: temb, context: context, skips: &skips, attention: attention) }
        h = groupNorm(h, groups: configuration.normNumGroups, weight: normOut.weight, bias: normOut.bias,
                      eps: configuration.normEps, silu: true)
        return conv2d(h, convOut)
    }

    /// The embedding every resnet receives for `timesteps` (one per batch element, or one for
    /// all) under `conditioning` (its pooled embeds, time ids and guidance embedding are used when
    /// the configuration has `text_time` / `time_cond_proj_dim`). Inputs must have passed `validate`.
    public func timeEmbedding(_ timesteps: [Double], conditioning: TextConditioning) -> Tensor {
        let batch = conditioning.batch
        let t = timesteps.count == 1 ? Array(repeating: timesteps[0], count: batch) : timesteps
        let temb = timeEmbeddingMLP(timeProjection(t), condition: conditioning.guidanceEmbedding)
        guard let addedEmbedding, let pooled = conditioning.pooled, let ids = conditioning.timeIDs else { return temb }
        let idSinusoids = addedEmbedding.projection(ids.scalars.map(Double.init)).reshaped([batch, ids.shape[1] * addedEmbedding.projection.dimension])
        return add(temb, addedEmbedding.mlp(concatLastAxis([pooled, idSinusoids])))
    }

    /// Checks a forward's inputs, throwing a message that names the offending argument.
    public func validate(latents: [Int], timesteps: Int, conditioning: TextConditioning) throws {
        let c = configuration
        guard latents.count == 4, latents[1] == c.inChannels else {
            throw UNetError.invalidInput("latents must be NCHW [batch, \(c.inChannels), height, width], got \(latents)")
        }
        let m = spatialMultiple
        guard latents[2] > 0, latents[3] > 0, latents[2] % m == 0, latents[3] % m == 0 else {
            throw UNetError.invalidInput("latent height and width must be positive multiples of \(m), got \(latents[2])×\(latents[3])")
        }
        guard timesteps == 1 || timesteps == latents[0] else {
            throw UNetError.invalidInput("need 1 or \(latents[0]) timesteps, got \(timesteps)")
        }
        let b = latents[0], hidden = conditioning.hiddenStates.shape
        guard hidden.count == 3, hidden[0] == b, hidden[2] == c.crossAttentionDim else {
            throw UNetError.invalidInput("encoder hidden states must be [\(b), tokens, \(c.crossAttentionDim)], got \(hidden)")
        }
        if let pooledWidth = c.pooledTextDimension {
            guard let pooled = conditioning.pooled?.shape, pooled == [b, pooledWidth] else {
                throw UNetError.invalidInput("this UNet (text_time) needs pooled text embeds [\(b), \(pooledWidth)], got \(conditioning.pooled?.shape.description ?? "none")")
            }
            guard let ids = conditioning.timeIDs?.shape, ids == [b, 6] else {
                throw UNetError.invalidInput("this UNet (text_time) needs micro-conditioning time ids [\(b), 6], got \(conditioning.timeIDs?.shape.description ?? "none")")
            }
        }
        if let d = c.timeCondProjDim {
            guard let w = conditioning.guidanceEmbedding?.shape, w == [b, d] else {
                throw UNetError.invalidInput("this UNet (time_cond_proj_dim) needs a guidance embedding [\(b), \(d)], got \(conditioning.guidanceEmbedding?.shape.description ?? "none")")
            }
        }
    }

    /// The noise prediction for NCHW `latents` `[b, 4, h, w]` at `timesteps` (1 or b values, may
    /// be fractional) given `conditioning` (b rows); returns NCHW.
    public func callAsFunction(_ latents: Tensor, timesteps: [Double], conditioning: TextConditioning) throws -> Tensor {
        try validate(latents: latents.shape, timesteps: timesteps.count, conditioning: conditioning)
        let temb = timeEmbedding(timesteps, conditioning: conditioning)
        let context = conditioning.hiddenStates
        let features = downPath(nchwToNHWC(latents), timeEmbedding: temb, context: context)
        return nhwcToNCHW(upPath(features, timeEmbedding: temb, context: context))
    }

    /// The SD1.x forward on a bare hidden-state tensor `[b, tokens, crossAttentionDim]` (no
    /// pooled embeds, time ids or guidance embedding).
    public func callAsFunction(_ latents: Tensor, timesteps: [Double], encoderHiddenStates: Tensor) throws -> Tensor {
        try self(latents, timesteps: timesteps, conditioning: TextConditioning(hiddenStates: encoderHiddenStates))
    }
}
