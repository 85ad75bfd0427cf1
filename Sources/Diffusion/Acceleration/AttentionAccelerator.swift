import SharedSettings
import TensorCore

/// Attention under one model call's acceleration plan, handed down the UNet's blocks to every
/// attention layer (`nil` there means plain attention).
///
/// - Batch reuse: per `BatchReuseGroup`, Q, K and the softmax map are computed for the pivot
///   row only and applied to every sharing row's own V. The rows' values are laid side by side
///   per head, so one attention call with a wider value computes all of them from one map.
/// - Temporal cache: each layer's output (after `to_out`) is kept by the layer's checkpoint
///   path and returned instead of computing on calls the plan marks `.reuse`; kept as bf16
///   when the layer computes in bf16 (`StoredTensor`), which halves the largest thing an SDXL
///   trajectory holds.
public final class AttentionAccelerator: @unchecked Sendable {
    var call: AccelerationOptions.Call
    let groups: [BatchReuseGroup]
    private var outputs: [String: StoredTensor] = [:]
    /// Per group: attention maps not computed because a row used the group pivot's map.
    private(set) var sharedMaps: [Int]

    init(call: AccelerationOptions.Call, groups: [BatchReuseGroup]) {
        self.call = call
        self.groups = groups
        sharedMaps = groups.map { _ in 0 }
    }

    /// The layer's output on `input` (evaluated only if it is computed) attending to `context`
    /// (nil: self-attention).
    func attend(_ layer: AttentionLayer, _ input: () -> Tensor, context: Tensor?) -> Tensor {
        if call.attention == .reuse, let kept = outputs[layer.name] { return kept.tensor }
        let x = input()
        let out = call.batchReuse ? reusingPivotMaps(layer, x, context: context) : layer(x, context: context)
        if call.attention != .bypass { outputs[layer.name] = StoredTensor(out, precision: layer.precision) }
        return out
    }

    private func reusingPivotMaps(_ layer: AttentionLayer, _ x: Tensor, context: Tensor?) -> Tensor {
        let source = context ?? x
        let values = layer.values(source)
        let attended = Tensor(zeros: [x.shape[0], x.shape[1], values.shape[2]])
        for (index, group) in groups.enumerated() {
            let sharing = group.rows.filter { context == nil || group.crossAttentionAligned[$0 - group.rows.lowerBound] }
            let pivot = group.rows.lowerBound
            let maps = attention(q: layer.queries(x.slice(pivot, 1)), k: layer.keys(source.slice(pivot, 1)),
                                 v: Self.sideBySide(values, rows: sharing, heads: layer.heads), heads: layer.heads,
                                 precision: layer.precision)
            Self.scatter(maps, into: attended, rows: sharing, heads: layer.heads)
            sharedMaps[index] += sharing.count - 1
            for row in group.rows where !sharing.contains(row) {
                let own = attention(q: layer.queries(x.slice(row, 1)), k: layer.keys(source.slice(row, 1)),
                                    v: values.slice(row, 1), heads: layer.heads, precision: layer.precision)
                Self.scatter(own, into: attended, rows: [row], heads: layer.heads)
            }
        }
        return layer.output(attended)
    }

    /// `[1, tokens, heads·m·d]` with, per token and head, the m rows' d values one after another:
    /// the value tensor of one attention call whose per-head output holds all m rows' results.
    static func sideBySide(_ values: Tensor, rows: [Int], heads: Int) -> Tensor {
        let (tokens, channels) = (values.shape[1], values.shape[2])
        let d = channels / heads, m = rows.count
        let out = Tensor(zeros: [1, tokens, channels * m])
        for (j, row) in rows.enumerated() {
            for t in 0..<tokens {
                let from = values.pointer + (row * tokens + t) * channels
                let to = out.pointer + t * channels * m + j * d
                for h in 0..<heads { (to + h * m * d).update(from: from + h * d, count: d) }
            }
        }
        return out
    }

    /// The inverse of `sideBySide` for an attention result `[1, tokens, heads·m·d]`: writes each
    /// row's `[tokens, heads·d]` into `attended`.
    static func scatter(_ result: Tensor, into attended: Tensor, rows: [Int], heads: Int) {
        let (tokens, channels) = (attended.shape[1], attended.shape[2])
        let d = channels / heads, m = rows.count
        for (j, row) in rows.enumerated() {
            for t in 0..<tokens {
                let from = result.pointer + t * channels * m + j * d
                let to = attended.pointer + (row * tokens + t) * channels
                for h in 0..<heads { (to + h * d).update(from: from + h * m * d, count: d) }
            }
        }
    }
}
