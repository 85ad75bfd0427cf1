import CKernels

/// A GEMM right-hand operand (`K×N`), packed once into the micro-kernel's panel layout.
///
/// The GEMM micro-kernel streams B as 16-column panels, k-major, split into cache-sized depth
/// blocks. Weights are packed at load time (see `LinearWeight`, `Conv2dWeight`) so inference
/// never pays for the transpose/reorder; a one-off `gemm` call packs its B on the fly. Panels
/// are stored at `precision` (f32, f16 widened as they are streamed, or bf16 k-pairs for the
/// dot-product kernel).
public final class PackedMatrix: @unchecked Sendable {
    /// K: the shared (depth) dimension.
    public let rows: Int
    /// N: the output columns.
    public let columns: Int
    /// The element format of the stored panels.
    public let precision: Precision
    /// The packed panels (`byteCount` bytes, 64-byte aligned).
    let storage: UnsafeMutableRawPointer
    /// Bytes held by the packed panels.
    public let byteCount: Int

    /// Packs a `rows×columns` matrix read from `source`: element (p, j) is
    /// `source[p·stride + j]`, or `source[j·stride + p]` when `transposed` (PyTorch's
    /// `[out, in]` linear weight is the transpose of the B we multiply by).
    public init(_ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, transposed: Bool,
                precision: Precision = .fp32) {
        precondition(rows >= 0 && columns >= 0, "PackedMatrix: negative shape \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.precision = precision
        byteCount = obc_packed_b_count(Int32(rows), Int32(columns), precision.format) * precision.byteSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(byteCount, 1), alignment: 64)
        let panels = (columns + Int(OBC_NR) - 1) / Int(OBC_NR)
        let (out, format) = (storage, precision.format)
        Parallel.forChunks(panels, minimumChunk: 4) { r in
            obc_pack_b(source, stride, transposed ? 1 : 0, Int32(rows), Int32(columns),
                       Int32(r.lowerBound), Int32(r.upperBound), format, out)
        }
    }

    /// Packs a row-major rank-2 tensor `[rows, columns]`.
    public convenience init(_ matrix: Tensor, precision: Precision = .fp32) {
        precondition(matrix.rank == 2, "PackedMatrix expects a 2-D tensor, got \(matrix.shape)")
        self.init(matrix.pointer, rows: matrix.shape[0], columns: matrix.shape[1],
                  stride: matrix.shape[1], transposed: false, precision: precision)
    }

    deinit { storage.deallocate() }
}
