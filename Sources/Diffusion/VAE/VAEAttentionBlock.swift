import TensorCore

/// The VAE mid block's spatial self-attention (diffusers' `Attention` with `group_norm`,
/// biased projections, one head of all channels, residual connection), GroupNorm eps 1e-6.
///
/// Accepts both the current key names (`to_q`, `to_k`, `to_v`, `to_out.0`) and the legacy ones
/// (`query`, `key`, `value`, `proj_attn`) that diffusers renames at load, stored as Linear
/// `[c, c]` or 1×1-conv `[c, c, 1, 1]` weights. The attention kernel streams over keys, so the
/// 4096×4096 score matrix of a 512×512 decode is never materialised.
struct VAEAttentionBlock: Sendable {
    let groups: Int
    let norm: (weight: Tensor, bias: Tensor)
    let attention: AttentionLayer
    static let eps: Float = 1e-6

    init(_ w: WeightStore, channels: Int, groups: Int) throws {
        self.groups = groups
        norm = try w.norm("group_norm", channels: channels)
        let legacy = !w.contains("to_q.weight") && w.contains("query.weight")
        func projection(_ current: String, _ old: String) throws -> LinearWeight {
            let key = "\(legacy ? old : current).weight"
            let weight: Tensor
            do { weight = try w.tensor(key, shape: [channels, channels]) } catch let linearShapeError {
                // Some legacy conversions kept the 1×1-conv shape.
                guard let conv = try? w.tensor(key, shape: [channels, channels, 1, 1]) else { throw linearShapeError }
                weight = conv.reshaped([channels, channels])
            }
            return LinearWeight(weight: weight, bias: try w.tensor("\(legacy ? old : current).bias", shape: [channels]), precision: w.precision)
        }
        attention = AttentionLayer(name: w.path, heads: 1,
                                   toQ: try projection("to_q", "query"), toK: try projection("to_k", "key"),
                                   toV: try projection("to_v", "value"), toOut: try projection("to_out.0", "proj_attn"))
    }

    /// NHWC in and out.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = groupNorm(x, groups: groups, weight: norm.weight, bias: norm.bias, eps: Self.eps).reshaped([b, h * wd, c])
        return attention(tokens, adding: x.reshaped([b, h * wd, c])).reshaped([b, h, wd, c])
    }
}
