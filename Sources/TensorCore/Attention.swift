import CKernels

/// Multi-head scaled dot-product attention, `softmax(Q·Kᵀ/√d)·V` per head.
///
/// `q` is `[batch, queries, heads·d]`, `k` is `[batch, keys, heads·d]`, `v` is
/// `[batch, keys, heads·dv]` (d and dv may differ); returns `[batch, queries, heads·dv]`.
/// `causal` masks keys after the query position (key j is visible to query i when j ≤ i; CLIP's
/// text encoder). The kernel is tiled flash-style (64 queries × 240 keys at a time, online
/// softmax, both products on the GEMM micro-kernel), so the queries×keys matrix is never
/// materialised. Because dv is free, one attention map can be applied to several value tensors
/// at once by laying them side by side per head. `precision: .bf16` rounds Q, K, V and the
/// probabilities to bf16 and runs both products as bf16 dot products (see `Precision`); other
/// precisions compute in f32.
public func attention(q: Tensor, k: Tensor, v: Tensor, heads: Int, causal: Bool = false, precision: Precision = .fp32) -> Tensor {
    precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention expects [batch, tokens, channels]")
    let (b, tq, cq) = (q.shape[0], q.shape[1], q.shape[2])
    let (tk, cv) = (k.shape[1], v.shape[2])
    precondition(k.shape[0] == b && v.shape[0] == b && k.shape[2] == cq && v.shape[1] == tk,
                 "attention: q \(q.shape), k \(k.shape), v \(v.shape) do not fit together")
    precondition(heads > 0 && cq % heads == 0 && cv % heads == 0, "channels not divisible by \(heads) heads")
    let d = cq / heads, dv = cv / heads
    let out = Tensor.kernelOutput([b, tq, cv])
    // The full product is counted even when causal, as a dense implementation would perform.
    FLOPMeter.run(.attention, multiplyAdds: b * heads * tq * tk * (d + dv),
                  label: "attention \(b)×\(heads) heads, \(tq)×\(tk) tokens, d \(d)" + (dv != d ? "/\(dv)" : "")) {
        if tq == 0 || b == 0 { return }
        let scale = 1 / Float(d).squareRoot()
        let format = precision == .bf16 ? precision.format : Precision.fp32.format
        // One job per (batch, head) when that keeps every worker busy; otherwise also split the
        // queries (each job re-packs its head's K and V, which is cheap next to the products).
        let pairs = b * heads
        let querySplits = pairs >= 2 * Parallel.threads ? 1
            : Swift.min((tq + 63) / 64, (2 * Parallel.threads + pairs - 1) / pairs)
        let (qp, kp, vp, op) = (q.pointer, k.pointer, v.pointer, out.pointer)
        Parallel.forEach(pairs * querySplits) { job in
            let pair = job / querySplits, split = job % querySplits
            let bi = pair / heads, h = pair % heads
            let lo = tq * split / querySplits, hi = tq * (split + 1) / querySplits
            obc_attention(qp + bi * tq * cq + h * d, cq, kp + bi * tk * cq + h * d, cq,
                          vp + bi * tk * cv + h * dv, cv, op + bi * tq * cv + h * dv, cv,
                          Int32(tk), Int32(d), Int32(dv), Int32(lo), Int32(hi), causal ? 1 : 0, scale, format)
        }
    }
    return out
}
