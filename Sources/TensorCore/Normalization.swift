import CKernels

/// A per-(image, channel) multiply-add followed by an activation, `act(x·mul + add)`: what a
/// GroupNorm (+ SiLU) reduces to once its statistics are known. A convolution can apply it to its
/// input as it reads it (see `conv2d(_:_:normalizedBy:)`), so the normalised tensor is never stored.
public struct ChannelAffine: Sendable {
    /// `[batch·channels]` each.
    public let mul: [Float]
    public let add: [Float]
    public let silu: Bool
    public let channels: Int

    var activation: Int32 { silu ? Int32(OBC_ACT_SILU) : Int32(OBC_ACT_IDENTITY) }

    /// `act(x·mul + add)` over a channels-last tensor whose batch matches.
    public func apply(_ x: Tensor) -> Tensor {
        let c = channels, n = x.shape[0], spatial = x.count / Swift.max(n * c, 1)
        precondition(x.shape[x.rank - 1] == c && mul.count == n * c, "ChannelAffine: \(mul.count / Swift.max(c, 1))×\(c) coefficients for \(x.shape)")
        let out = Tensor.kernelOutput(x.shape)
        FLOPMeter.run(.normalization, multiplyAdds: x.count) {
            let (src, dst, act) = (x.pointer, out.pointer, activation)
            mul.withUnsafeBufferPointer { mulBuf in
                add.withUnsafeBufferPointer { addBuf in
                    let (m, a) = (mulBuf.baseAddress!, addBuf.baseAddress!)
                    Parallel.forChunks(n * spatial, minimumChunk: Swift.max(1, elementwiseChunk / Swift.max(c, 1))) { r in
                        var row = r.lowerBound
                        while row < r.upperBound {
                            let b = row / spatial, end = Swift.min(r.upperBound, (b + 1) * spatial)
                            obc_affine_rows(src + row * c, m + b * c, a + b * c, dst + row * c, end - row, Int32(c), act)
                            row = end
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Group normalisation over a channels-last tensor (`[batch, ..., channels]`: NHWC or
/// `[batch, tokens, channels]`), statistics per (batch, group) in f64 for stability.
/// `silu: true` fuses the SiLU that follows almost every GroupNorm in SD.
///
/// Two streaming passes over contiguous rows (never a strided walk per group): per-channel
/// moments (`groupNormAffine`), reduced to per-group mean/variance and folded with the affine
/// parameters into one per-channel multiply-add, then `act(x·mul + add)`.
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, eps: Float, silu: Bool = false) -> Tensor {
    groupNormAffine(x, groups: groups, weight: weight, bias: bias, eps: eps, silu: silu).apply(x)
}

/// The first pass of `groupNorm`: `x`'s statistics folded with the affine parameters into the
/// per-(image, channel) multiply-add that normalises it.
public func groupNormAffine(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, eps: Float, silu: Bool = false) -> ChannelAffine {
    let c = x.shape[x.rank - 1], n = x.shape[0]
    precondition(groups > 0 && c % groups == 0, "groupNorm: \(c) channels not divisible by \(groups) groups")
    precondition(weight.count == c && bias.count == c, "groupNorm: affine parameters must have \(c) values")
    let spatial = x.count / Swift.max(n * c, 1), cg = c / groups
    var mul = [Float](repeating: 0, count: n * c), shift = [Float](repeating: 0, count: n * c)
    FLOPMeter.run(.normalization, multiplyAdds: 2 * x.count) {
        if x.count == 0 { return }
        // Per-channel moments, split into row chunks per batch so both workers share the pass.
        let chunks = Swift.max(1, Swift.min(Parallel.threads * 2, spatial / 64))
        var partial = [Double](repeating: 0, count: n * chunks * 2 * c)
        let src = x.pointer
        partial.withUnsafeMutableBufferPointer { buf in
            let moments = buf.baseAddress!
            Parallel.forEach(n * chunks) { job in
                let b = job / chunks, ch = job % chunks
                let lo = spatial * ch / chunks, hi = spatial * (ch + 1) / chunks
                let slot = moments + job * 2 * c
                obc_channel_moments(src + (b * spatial + lo) * c, hi - lo, Int32(c), slot, slot + c)
            }
        }
        let count = Double(spatial * cg)
        for b in 0..<n {
            for g in 0..<groups {
                var sum = 0.0, sq = 0.0
                for ch in 0..<chunks {
                    let base = (b * chunks + ch) * 2 * c
                    for j in (g * cg)..<((g + 1) * cg) { sum += partial[base + j]; sq += partial[base + c + j] }
                }
                let mean = sum / count
                let inv = 1 / (Swift.max(sq / count - mean * mean, 0) + Double(eps)).squareRoot()
                for j in (g * cg)..<((g + 1) * cg) {
                    let w = Double(weight.pointer[j])
                    mul[b * c + j] = Float(inv * w)
                    shift[b * c + j] = Float(Double(bias.pointer[j]) - mean * inv * w)
                }
            }
        }
    }
    return ChannelAffine(mul: mul, add: shift, silu: silu, channels: c)
}

/// Layer normalisation over the last axis.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
    let c = x.shape[x.rank - 1], rows = x.count / Swift.max(c, 1)
    precondition(weight.count == c && bias.count == c, "layerNorm: affine parameters must have \(c) values")
    let out = Tensor.kernelOutput(x.shape)
    FLOPMeter.run(.normalization, multiplyAdds: 3 * x.count) {
        let (src, dst, w, b) = (x.pointer, out.pointer, weight.pointer, bias.pointer)
        Parallel.forChunks(rows, minimumChunk: Swift.max(1, elementwiseChunk / Swift.max(c, 1))) { r in
            obc_layer_norm(src + r.lowerBound * c, w, b, dst + r.lowerBound * c, r.count, Int32(c), eps)
        }
    }
    return out
}

/// Softmax over the last axis.
public func softmax(_ x: Tensor) -> Tensor {
    let c = x.shape[x.rank - 1], rows = x.count / Swift.max(c, 1)
    let out = Tensor.kernelOutput(x.shape)
    FLOPMeter.run(.elementwise, multiplyAdds: 2 * x.count) {
        let (src, dst) = (x.pointer, out.pointer)
        Parallel.forChunks(rows, minimumChunk: Swift.max(1, elementwiseChunk / Swift.max(c, 1))) { r in
            obc_softmax(src + r.lowerBound * c, dst + r.lowerBound * c, r.count, Int32(c))
        }
    }
    return out
}
