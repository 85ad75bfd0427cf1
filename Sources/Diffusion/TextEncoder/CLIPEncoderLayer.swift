import TensorCore

/// One pre-norm transformer block of CLIP's text encoder (transformers' `CLIPEncoderLayer`):
/// `x + attn(LN₁(x))`, then `x + fc₂(act(fc₁(LN₂(x))))`, with causal self-attention.
struct CLIPEncoderLayer: Sendable {
    let norm1: (weight: Tensor, bias: Tensor)
    let query, key, value, output: LinearWeight
    let norm2: (weight: Tensor, bias: Tensor)
    let fc1, fc2: LinearWeight
    let heads: Int
    let activation: CLIPTextConfiguration.Activation
    let eps: Float

    /// `weights` is scoped to `encoder.layers.N`.
    init(weights: WeightStore, configuration c: CLIPTextConfiguration) throws {
        let d = c.hiddenSize
        norm1 = try weights.norm("layer_norm1", channels: d)
        query = try weights.linear("self_attn.q_proj", in: d, out: d)
        key = try weights.linear("self_attn.k_proj", in: d, out: d)
        value = try weights.linear("self_attn.v_proj", in: d, out: d)
        output = try weights.linear("self_attn.out_proj", in: d, out: d)
        norm2 = try weights.norm("layer_norm2", channels: d)
        fc1 = try weights.linear("mlp.fc1", in: d, out: c.intermediateSize)
        fc2 = try weights.linear("mlp.fc2", in: c.intermediateSize, out: d)
        heads = c.numAttentionHeads
        activation = c.hiddenAct
        eps = c.layerNormEps
    }

    /// `x`: `[batch, tokens, hidden]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = layerNorm(x, weight: norm1.weight, bias: norm1.bias, eps: eps)
        let attended = attention(q: linear(h, query), k: linear(h, key), v: linear(h, value), heads: heads, causal: true,
                                 precision: query.packed.precision)
        let x = linear(attended, output, adding: x)
        let act: (Tensor) -> Tensor = switch activation {
        case .quickGelu: quickGelu
        case .gelu: gelu
        }
        return feedForward(layerNorm(x, weight: norm2.weight, bias: norm2.bias, eps: eps), fc1, activation: act, fc2, adding: x)
    }
}
