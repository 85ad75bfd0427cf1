/// A fully connected layer's weights, `y = x·Wᵀ + b`, with `W` given as PyTorch stores it
/// (`[outFeatures, inFeatures]`). Weights are repacked once at construction into the layout the
/// GEMM kernel streams fastest.
public final class LinearWeight: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// Wᵀ, `[inFeatures, outFeatures]` row-major.
    let transposed: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "linear weight must be 2-D, got \(weight.shape)")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        if let bias { precondition(bias.count == outFeatures, "bias has \(bias.count) values, expected \(outFeatures)") }
        let t = Tensor(zeros: [inFeatures, outFeatures])
        for o in 0..<outFeatures {
            for i in 0..<inFeatures { t.pointer[i * outFeatures + o] = weight.pointer[o * inFeatures + i] }
        }
        transposed = t
        self.bias = bias
    }
}

/// `x·Wᵀ + b` over the last axis of `x` (`[..., in]` → `[..., out]`).
public func linear(_ x: Tensor, _ w: LinearWeight) -> Tensor {
    precondition(x.shape.last == w.inFeatures, "linear expects last dim \(w.inFeatures), got \(x.shape)")
    let m = x.count / w.inFeatures
    var shape = x.shape
    shape[shape.count - 1] = w.outFeatures
    let out = Tensor(zeros: shape)
    gemm(m: m, n: w.outFeatures, k: w.inFeatures, a: x.pointer, lda: w.inFeatures,
         b: w.transposed.pointer, ldb: w.outFeatures, c: out.pointer, ldc: w.outFeatures,
         bias: w.bias?.pointer, accumulate: false)
    return out
}

/// `C = A·B (+ bias per column) (+ C if accumulate)`, row-major, f32.
/// Counts `m·n·k` multiply-adds.
public func gemm(m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 bias: UnsafePointer<Float>?, accumulate: Bool) {
    FLOPMeter.record(.gemm, multiplyAdds: m * n * k)
    if FLOPMeter.isCountOnly { return }
    Parallel.forChunks(m) { rows in
        for i in rows {
            let ci = c + i * ldc
            if !accumulate {
                if let bias { ci.update(from: bias, count: n) } else { ci.update(repeating: 0, count: n) }
            } else if let bias {
                for j in 0..<n { ci[j] += bias[j] }
            }
            for p in 0..<k {
                let av = a[i * lda + p]
                let bp = b + p * ldb
                for j in 0..<n { ci[j] += av * bp[j] }
            }
        }
    }
}
