/// A fully connected layer's weights, `y = x·Wᵀ + b`, with `W` given as PyTorch stores it
/// (`[outFeatures, inFeatures]`). Weights are packed once at construction into the GEMM
/// micro-kernel's panel layout, so every call streams them at full speed.
public final class LinearWeight: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// Wᵀ (`[inFeatures, outFeatures]`) packed for the GEMM kernel.
    public let packed: PackedMatrix
    public let bias: Tensor?

    /// Packs `weight` at `precision` (bias stays f32).
    public init(weight: Tensor, bias: Tensor?, precision: Precision = .fp32) {
        precondition(weight.rank == 2, "linear weight must be 2-D, got \(weight.shape)")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        if let bias { precondition(bias.count == outFeatures, "bias has \(bias.count) values, expected \(outFeatures)") }
        packed = PackedMatrix(weight.pointer, rows: inFeatures, columns: outFeatures,
                              stride: inFeatures, transposed: true, precision: precision)
        self.bias = bias
    }
}

/// `x·Wᵀ + b (+ residual)` over the last axis of `x` (`[..., in]` → `[..., out]`). A residual
/// (same shape as the result) is added as the product is stored, saving a pass over memory.
public func linear(_ x: Tensor, _ w: LinearWeight, adding residual: Tensor? = nil) -> Tensor {
    let (m, shape) = rowsAndOutputShape("linear", x, in: w.inFeatures, out: w.outFeatures, residual: residual)
    let out = Tensor.kernelOutput(shape)
    FLOPMeter.run(.gemm, multiplyAdds: m * w.outFeatures * w.inFeatures,
                  label: "linear \(m)×\(w.inFeatures)→\(w.outFeatures)" + (residual != nil ? "+res" : "")) {
        runPackedGEMM(denseSource(x.pointer, lda: w.inFeatures), m: m, b: w.packed, c: out.pointer, ldc: w.outFeatures,
                      bias: w.bias?.pointer, addend: residual.map { UnsafePointer($0.pointer) }, ldAddend: w.outFeatures)
    }
    return out
}

/// `C = A·B (+ bias per column) (+ C if accumulate)` with B already packed; A is `m×B.rows`
/// row-major with row stride `lda`. Counts `m·n·k` multiply-adds.
public func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 bias: UnsafePointer<Float>?, accumulate: Bool) {
    FLOPMeter.run(.gemm, multiplyAdds: m * b.columns * b.rows) {
        runPackedGEMM(denseSource(a, lda: lda), m: m, b: b, c: c, ldc: ldc, bias: bias,
                      addend: accumulate ? UnsafePointer(c) : nil, ldAddend: ldc)
    }
}

/// `C = A·B (+ bias per column) (+ C if accumulate)`, row-major, f32.
/// Counts `m·n·k` multiply-adds. B is packed for this call; multiply by the same B repeatedly
/// through a `PackedMatrix` instead.
public func gemm(m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 bias: UnsafePointer<Float>?, accumulate: Bool) {
    FLOPMeter.run(.gemm, multiplyAdds: m * n * k) {
        let packed = PackedMatrix(b, rows: k, columns: n, stride: ldb, transposed: false)
        runPackedGEMM(denseSource(a, lda: lda), m: m, b: packed, c: c, ldc: ldc, bias: bias,
                      addend: accumulate ? UnsafePointer(c) : nil, ldAddend: ldc)
    }
}

/// `second(activation(first(x))) (+ residual)` over the last axis, computed a block of rows at a
/// time: the hidden activations, usually several times wider than `x` (SD's GEGLU feed-forward:
/// 8× before the gate, 4× after), then exist for one block only — they stay in cache between
/// the three steps, and peak memory holds one block's instead of the whole batch's.
public func feedForward(_ x: Tensor, _ first: LinearWeight, activation: (Tensor) -> Tensor, _ second: LinearWeight,
                        adding residual: Tensor? = nil) -> Tensor {
    let (rows, shape) = rowsAndOutputShape("feedForward", x, in: first.inFeatures, out: second.outFeatures, residual: residual)
    let out = Tensor.kernelOutput(shape)
    // About 8 MiB of hidden activations per block (L3-resident), at least 256 rows so each
    // block's products still split well over the workers.
    let block = Swift.max(256, (8 << 20) / (4 * Swift.max(first.outFeatures, 1)))
    var start = 0
    while start < rows {
        let n = Swift.min(block, rows - start)
        let hidden = Tensor.kernelOutput([n, first.outFeatures])
        gemm(m: n, a: x.pointer + start * first.inFeatures, lda: first.inFeatures, b: first.packed, c: hidden.pointer,
             ldc: first.outFeatures, bias: first.bias?.pointer, accumulate: false)
        let activated = activation(hidden)
        precondition(activated.count == n * second.inFeatures, "feedForward: the activation must give \(second.inFeatures) features per row")
        let offset = start * second.outFeatures
        FLOPMeter.run(.gemm, multiplyAdds: n * second.outFeatures * second.inFeatures) {
            runPackedGEMM(denseSource(activated.pointer, lda: second.inFeatures), m: n, b: second.packed,
                          c: out.pointer + offset, ldc: second.outFeatures, bias: second.bias?.pointer,
                          addend: residual.map { UnsafePointer($0.pointer + offset) }, ldAddend: second.outFeatures)
        }
        start += n
    }
    return out
}

/// The rows of `x` (`[..., in]`) and the shape `[..., out]` of a layer's result, checking both
/// and that a residual has that shape.
private func rowsAndOutputShape(_ name: String, _ x: Tensor, in inFeatures: Int, out outFeatures: Int,
                                residual: Tensor?) -> (rows: Int, shape: [Int]) {
    precondition(x.shape.last == inFeatures, "\(name) expects last dim \(inFeatures), got \(x.shape)")
    var shape = x.shape
    shape[shape.count - 1] = outFeatures
    if let residual { precondition(residual.shape == shape, "\(name): residual \(residual.shape) is not the output shape \(shape)") }
    return (x.count / Swift.max(inFeatures, 1), shape)
}
