import CKernels

/// Runs `C = A·B (+bias) (+addend)` for rows `0..<m` of an A source over `Parallel.threads`
/// workers; `addend` (row stride `ldAddend`) may be C itself, to accumulate. With `biasRows` > 0
/// the bias is a matrix with one row of N per `biasRows` rows of C (a per-image bias).
///
/// Work is split along M when there are enough rows (each worker packs its own A blocks and
/// all of them share the packed B), otherwise along N in whole 16-column panels (small-M
/// products such as the time embedding or CLIP's 77 tokens). Callers record FLOPs.
func runPackedGEMM(_ source: obc_a_source, m: Int, b: PackedMatrix,
                   c: UnsafeMutablePointer<Float>, ldc: Int,
                   bias: UnsafePointer<Float>?, biasRows: Int = 0, addend: UnsafePointer<Float>?, ldAddend: Int) {
    let n = b.columns, k = b.rows
    if m == 0 || n == 0 { return }
    let workers = Parallel.threads
    let mr = Int(OBC_MR), nr = Int(OBC_NR)
    let panels = (n + nr - 1) / nr
    let (packed, format) = (UnsafeRawPointer(b.storage), b.precision.format)
    var src = source
    // Rows [lo, hi) × columns [n0, n1), split where the bias row changes.
    func run(_ s: inout obc_a_source, _ lo: Int, _ hi: Int, _ n0: Int, _ n1: Int) {
        var row = lo
        while row < hi {
            let end = biasRows > 0 ? Swift.min(hi, (row / biasRows + 1) * biasRows) : hi
            let rowBias = biasRows > 0 ? bias.map { $0 + row / biasRows * n } : bias
            obc_gemm(&s, Int32(row), Int32(end), Int32(n0), Int32(n1), Int32(n), Int32(k), packed, format, c, ldc,
                     rowBias, addend, ldAddend)
            row = end
        }
    }
    // Below 2^18 multiply-adds (~0.1 ms on one core) a thread hand-off costs more than it saves.
    if workers <= 1 || m * n * Swift.max(k, 1) < 1 << 18 {
        run(&src, 0, m, 0, n)
        return
    }
    let rowTiles = (m + mr - 1) / mr
    if rowTiles >= 8 * workers || rowTiles >= panels {
        // Several chunks per worker so a core slowed by other load does not hold up the call.
        let parts = Swift.min(rowTiles, workers * (m >= 1024 ? 4 : 1))
        Parallel.forEach(parts) { p in
            var s = src
            let lo = rowTiles * p / parts * mr, hi = Swift.min(m, rowTiles * (p + 1) / parts * mr)
            run(&s, lo, hi, 0, n)
        }
    } else {
        let parts = Swift.min(panels, workers)
        Parallel.forEach(parts) { p in
            var s = src
            let lo = panels * p / parts * nr, hi = Swift.min(n, panels * (p + 1) / parts * nr)
            run(&s, 0, m, lo, hi)
        }
    }
}

/// An A operand read as a dense row-major matrix.
func denseSource(_ a: UnsafePointer<Float>, lda: Int) -> obc_a_source {
    var s = obc_a_source()
    s.kind = 0
    s.a = a
    s.lda = lda
    return s
}
