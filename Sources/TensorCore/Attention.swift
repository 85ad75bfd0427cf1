import Foundation

/// Multi-head scaled dot-product attention, `softmax(Q·Kᵀ/√d)·V` per head.
///
/// `q` is `[batch, queries, heads·d]`, `k` is `[batch, keys, heads·d]`, `v` is
/// `[batch, keys, heads·dv]`; returns `[batch, queries, heads·dv]`. `causal` masks keys after
/// the query position (CLIP's text encoder). The kernel streams over keys with an online softmax,
/// so the full queries×keys matrix is never materialised.
public func attention(q: Tensor, k: Tensor, v: Tensor, heads: Int, causal: Bool = false) -> Tensor {
    precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention expects [batch, tokens, channels]")
    let (b, tq, cq) = (q.shape[0], q.shape[1], q.shape[2])
    let (tk, cv) = (k.shape[1], v.shape[2])
    precondition(k.shape[0] == b && v.shape[0] == b && k.shape[2] == cq && v.shape[1] == tk)
    precondition(cq % heads == 0 && cv % heads == 0, "channels not divisible by \(heads) heads")
    let d = cq / heads, dv = cv / heads
    let out = Tensor(zeros: [b, tq, cv])
    FLOPMeter.record(.attention, multiplyAdds: b * heads * tq * tk * (d + dv))
    if FLOPMeter.isCountOnly { return out }
    let scale = 1 / Float(d).squareRoot()
    Parallel.forEach(b * heads) { job in
        let bi = job / heads, h = job % heads
        var scores = [Float](repeating: 0, count: tk)
        for i in 0..<tq {
            let qi = q.pointer + (bi * tq + i) * cq + h * d
            let limit = causal ? Swift.min(i + 1, tk) : tk
            var mx = -Float.infinity
            for j in 0..<limit {
                let kj = k.pointer + (bi * tk + j) * cq + h * d
                var s: Float = 0
                for t in 0..<d { s += qi[t] * kj[t] }
                scores[j] = s * scale
                mx = Swift.max(mx, scores[j])
            }
            var sum: Float = 0
            for j in 0..<limit { scores[j] = expf(scores[j] - mx); sum += scores[j] }
            let o = out.pointer + (bi * tq + i) * cv + h * dv
            for j in 0..<limit {
                let p = scores[j] / sum
                let vj = v.pointer + (bi * tk + j) * cv + h * dv
                for t in 0..<dv { o[t] += p * vj[t] }
            }
        }
    }
    return out
}
