import CKernels

/// The arithmetic of a layer, set by the format its packed weights are stored in.
///
/// - `fp32`: f32 weights, activations and accumulation.
/// - `f16`: weights stored as IEEE halves (half the weight memory and bandwidth), widened to f32
///   as the GEMM streams them; activations and accumulation stay f32, so the only error is each
///   weight's rounding (relative 2⁻¹¹). SD weights fit f16's range; f16 checkpoints lose nothing.
/// - `bf16`: weights stored as bfloat16 and activations rounded to bfloat16 as they are packed
///   (relative 2⁻⁸ each), multiplied as AVX512-BF16 dot products — exact products, f32
///   accumulation — at twice the f32 rate. Attention rounds Q, K, V and its probabilities the
///   same way; normalisation, softmax and elementwise kernels stay f32. A CPU without AVX512-BF16
///   forms the same rounded products with f32 FMAs, so results agree across machines up to
///   accumulation order.
public enum Precision: String, CaseIterable, Sendable {
    case fp32, f16, bf16

    /// The C kernels' format constant.
    var format: Int32 {
        switch self {
        case .fp32: Int32(OBC_F32)
        case .f16: Int32(OBC_F16)
        case .bf16: Int32(OBC_BF16)
        }
    }

    /// Bytes per stored weight.
    public var byteSize: Int { Int(obc_format_size(format)) }

    /// `values` rounded to this precision's storage format and widened back: exactly the weights
    /// a GEMM packed at this precision multiplies by (and, for bf16, the activations).
    public func rounded(_ values: Tensor) -> Tensor {
        let out = Tensor(zeros: values.shape)
        obc_round_to_format(values.pointer, out.pointer, values.count, format)
        return out
    }
}
