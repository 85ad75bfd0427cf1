import CKernels

/// A tensor kept between model calls (an accelerated trajectory's attention cache and block-skip
/// features), stored at the width its precision needs: bfloat16 under `Precision.bf16` — whose
/// layers round activations to bf16 as they enter every GEMM anyway — and f32 otherwise (f16 is
/// a weight format; its activations stay f32). Halves what an SDXL trajectory holds at bf16.
public struct StoredTensor: @unchecked Sendable {
    public let shape: [Int]
    private let format: Precision
    private let full: Tensor?
    private let halves: [UInt16]

    /// Keeps `tensor` (narrowed to bf16 when `precision` is bf16, rounded to nearest even).
    /// Under a count-only meter the tensor is kept as is: its untouched zero pages cost nothing.
    public init(_ tensor: Tensor, precision: Precision) {
        shape = tensor.shape
        if precision == .bf16 && !FLOPMeter.isCountOnly && tensor.count > 0 {
            format = .bf16
            full = nil
            halves = [UInt16](unsafeUninitializedCapacity: tensor.count) { buffer, initialized in
                obc_narrow(tensor.pointer, tensor.count, Precision.bf16.format, buffer.baseAddress!)
                initialized = tensor.count
            }
        } else {
            format = .fp32
            full = tensor
            halves = []
        }
    }

    /// The kept values as an f32 tensor (a fresh widened copy for bf16 storage).
    public var tensor: Tensor {
        if let full { return full }
        let out = Tensor.kernelOutput(shape)
        halves.withUnsafeBufferPointer { obc_widen($0.baseAddress!, out.count, format.format, out.pointer) }
        return out
    }

    /// Bytes of storage held.
    public var byteCount: Int { shape.reduce(1, *) * (format == .bf16 ? 2 : 4) }
}
