import TensorCore

/// diffusers' `Attention` with the default processor: `to_out.0(softmax(QKᵀ/√d)·V)` over
/// `heads` heads, `Q = to_q(x)`, `K = to_k(context)`, `V = to_v(context)` (context = x for
/// self-attention). Token tensors are `[batch, tokens, channels]`.
///
/// The forward is split into `queries`, `keys`, `values` and `output` so that server-side
/// accelerations (batch reuse of one attention map across candidates, temporal caching) can
/// recombine the steps without re-implementing the projections.
public struct AttentionLayer: Sendable {
    public let heads: Int
    /// The layer's checkpoint path (e.g. `down_blocks.0.attentions.0.transformer_blocks.0.attn1`),
    /// which identifies it in caches.
    public let name: String
    let toQ: LinearWeight
    let toK: LinearWeight
    let toV: LinearWeight
    let toOut: LinearWeight

    /// A layer from diffusers' keys (`to_q`, `to_k`, `to_v`, `to_out.0`); `projectionBias`
    /// says whether q/k/v have biases (UNet: no; VAE: yes).
    init(_ w: WeightStore, queryDimension: Int, contextDimension: Int, heads: Int, headDimension: Int, projectionBias: Bool) throws {
        let inner = heads * headDimension
        try self.init(name: w.path, heads: heads,
                      toQ: w.linear("to_q", in: queryDimension, out: inner, bias: projectionBias),
                      toK: w.linear("to_k", in: contextDimension, out: inner, bias: projectionBias),
                      toV: w.linear("to_v", in: contextDimension, out: inner, bias: projectionBias),
                      toOut: w.linear("to_out.0", in: inner, out: queryDimension))
    }

    init(name: String, heads: Int, toQ: LinearWeight, toK: LinearWeight, toV: LinearWeight, toOut: LinearWeight) {
        self.name = name
        self.heads = heads
        self.toQ = toQ
        self.toK = toK
        self.toV = toV
        self.toOut = toOut
    }

    /// `Q = to_q(x)`.
    public func queries(_ x: Tensor) -> Tensor { linear(x, toQ) }

    /// `K = to_k(context)`.
    public func keys(_ context: Tensor) -> Tensor { linear(context, toK) }

    /// `V = to_v(context)`.
    public func values(_ context: Tensor) -> Tensor { linear(context, toV) }

    /// The arithmetic of the layer's attention products: that of its projections.
    public var precision: Precision { toQ.packed.precision }

    /// `to_out.0` applied to the per-head attention result (plus a residual, fused).
    public func output(_ attended: Tensor, adding residual: Tensor? = nil) -> Tensor { linear(attended, toOut, adding: residual) }

    /// The whole layer (plus a residual, fused into `to_out.0`); `context: nil` is self-attention.
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil, adding residual: Tensor? = nil) -> Tensor {
        let source = context ?? x
        return output(attention(q: queries(x), k: keys(source), v: values(source), heads: heads, precision: precision),
                      adding: residual)
    }
}
