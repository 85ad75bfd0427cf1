import Foundation

/// Group normalisation over a channels-last tensor (`[batch, ..., channels]`: NHWC or
/// `[batch, tokens, channels]`), statistics per (batch, group) in f64 for stability.
/// `silu: true` fuses the SiLU that follows almost every GroupNorm in SD.
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, eps: Float, silu: Bool = false) -> Tensor {
    let c = x.shape[x.rank - 1], n = x.shape[0]
    precondition(c % groups == 0, "groupNorm: \(c) channels not divisible by \(groups) groups")
    precondition(weight.count == c && bias.count == c, "groupNorm: affine parameters must have \(c) values")
    let spatial = x.count / (n * c), cg = c / groups
    let out = Tensor(zeros: x.shape)
    FLOPMeter.record(.normalization, multiplyAdds: 3 * x.count)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forEach(n * groups) { job in
        let b = job / groups, g = job % groups
        let base = b * spatial * c + g * cg
        var sum = 0.0, sq = 0.0
        for s in 0..<spatial {
            let p = x.pointer + base + s * c
            for j in 0..<cg { let v = Double(p[j]); sum += v; sq += v * v }
        }
        let cnt = Double(spatial * cg)
        let mean = sum / cnt
        let variance = Swift.max(sq / cnt - mean * mean, 0)
        let inv = Float(1 / (variance + Double(eps)).squareRoot())
        let m = Float(mean)
        for s in 0..<spatial {
            let p = x.pointer + base + s * c, q = out.pointer + base + s * c
            for j in 0..<cg {
                var v = (p[j] - m) * inv * weight.pointer[g * cg + j] + bias.pointer[g * cg + j]
                if silu { v = v / (1 + expf(-v)) }
                q[j] = v
            }
        }
    }
    return out
}

/// Layer normalisation over the last axis.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
    let c = x.shape[x.rank - 1], rows = x.count / c
    precondition(weight.count == c && bias.count == c, "layerNorm: affine parameters must have \(c) values")
    let out = Tensor(zeros: x.shape)
    FLOPMeter.record(.normalization, multiplyAdds: 3 * x.count)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forChunks(rows) { range in
        for r in range {
            let p = x.pointer + r * c, q = out.pointer + r * c
            var sum = 0.0
            for j in 0..<c { sum += Double(p[j]) }
            let mean = Float(sum / Double(c))
            var sq = 0.0
            for j in 0..<c { let d = Double(p[j] - mean); sq += d * d }
            let inv = Float(1 / (sq / Double(c) + Double(eps)).squareRoot())
            for j in 0..<c { q[j] = (p[j] - mean) * inv * weight.pointer[j] + bias.pointer[j] }
        }
    }
    return out
}

/// Softmax over the last axis.
public func softmax(_ x: Tensor) -> Tensor {
    let c = x.shape[x.rank - 1], rows = x.count / c
    let out = Tensor(zeros: x.shape)
    FLOPMeter.record(.elementwise, multiplyAdds: 2 * x.count)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forChunks(rows) { range in
        for r in range {
            let p = x.pointer + r * c, q = out.pointer + r * c
            var mx = -Float.infinity
            for j in 0..<c { mx = Swift.max(mx, p[j]) }
            var s: Float = 0
            for j in 0..<c { q[j] = expf(p[j] - mx); s += q[j] }
            let inv = 1 / s
            for j in 0..<c { q[j] *= inv }
        }
    }
    return out
}
