import TensorCore

/// diffusers' `BasicTransformerBlock` as SD1.x uses it: LayerNorm → self-attention (+res) →
/// LayerNorm → cross-attention on the text context (+res) → LayerNorm → GEGLU feed-forward
/// (`ff.net.0.proj` C→8C, exact-erf GELU gate, `ff.net.2` 4C→C) (+res). LayerNorm eps 1e-5.
public struct BasicTransformerBlock: Sendable {
    public let selfAttention: AttentionLayer
    public let crossAttention: AttentionLayer
    let norm1: (weight: Tensor, bias: Tensor)
    let norm2: (weight: Tensor, bias: Tensor)
    let norm3: (weight: Tensor, bias: Tensor)
    let feedForwardIn: LinearWeight
    let feedForwardOut: LinearWeight
    static let eps: Float = 1e-5

    init(_ w: WeightStore, channels: Int, contextDimension: Int, heads: Int) throws {
        let headDimension = channels / heads
        norm1 = try w.norm("norm1", channels: channels)
        selfAttention = try AttentionLayer(w.scoped("attn1"), queryDimension: channels, contextDimension: channels,
                                           heads: heads, headDimension: headDimension, projectionBias: false)
        norm2 = try w.norm("norm2", channels: channels)
        crossAttention = try AttentionLayer(w.scoped("attn2"), queryDimension: channels, contextDimension: contextDimension,
                                            heads: heads, headDimension: headDimension, projectionBias: false)
        norm3 = try w.norm("norm3", channels: channels)
        feedForwardIn = try w.linear("ff.net.0.proj", in: channels, out: 8 * channels)
        feedForwardOut = try w.linear("ff.net.2", in: 4 * channels, out: channels)
    }

    /// `x` is `[batch, tokens, channels]`, `context` `[batch, contextTokens, contextDimension]`;
    /// `attention` (server accelerations) may share or cache the attention layers' work.
    public func callAsFunction(_ x: Tensor, context: Tensor, attention: AttentionAccelerator? = nil) -> Tensor {
        var h = attend(selfAttention, layerNorm(x, weight: norm1.weight, bias: norm1.bias, eps: Self.eps), context: nil, attention, adding: x)
        h = attend(crossAttention, layerNorm(h, weight: norm2.weight, bias: norm2.bias, eps: Self.eps), context: context, attention, adding: h)
        return feedForward(layerNorm(h, weight: norm3.weight, bias: norm3.bias, eps: Self.eps), feedForwardIn,
                           activation: geglu, feedForwardOut, adding: h)
    }

    /// `residual + layer(input)`. The normalised input is only computed when the layer really
    /// runs (not when it is cached); the residual is fused into the output projection unless an
    /// accelerator may cache or share the layer's output.
    private func attend(_ layer: AttentionLayer, _ input: @autoclosure () -> Tensor, context: Tensor?,
                        _ accelerator: AttentionAccelerator?, adding residual: Tensor) -> Tensor {
        guard let accelerator else { return layer(input(), context: context, adding: residual) }
        return add(accelerator.attend(layer, input, context: context), residual)
    }
}
