import CKernels

/// The element format packed weights are stored in.
///
/// `f16` and `bf16` halve weight memory (and the bandwidth of streaming weight panels); the GEMM
/// micro-kernel widens each panel to f32 as it reads it, so activations and accumulation stay
/// f32 and the only error is the rounding of each weight (relative 2⁻¹¹ for f16, 2⁻⁸ for bf16).
/// f16 keeps more mantissa, bf16 more range; SD weights fit f16's range, so f16 is the more
/// accurate half format for them. Checkpoints stored in f16 lose nothing at `f16`.
public enum WeightPrecision: String, CaseIterable, Sendable {
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

    /// `values` rounded to this precision and widened back: exactly the weights a GEMM with
    /// weights packed at this precision multiplies by.
    public func rounded(_ values: Tensor) -> Tensor {
        let out = Tensor(zeros: values.shape)
        obc_round_to_format(values.pointer, out.pointer, values.count, format)
        return out
    }
}
