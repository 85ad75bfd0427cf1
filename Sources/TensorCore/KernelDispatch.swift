import CKernels

/// An instruction-set level of the C kernels; each level includes the ones below it.
public enum KernelISA: Int32, CaseIterable, Comparable, CustomStringConvertible, Sendable {
    /// Portable C.
    case generic = 0
    /// AVX2 + FMA (+ F16C) micro-kernels and vector math.
    case avx2 = 1
    /// AVX-512F GEMM micro-kernel (so also convolution and attention); AVX2 elsewhere.
    case avx512 = 2
    /// AVX512-BF16 dot products for `Precision.bf16` layers (with AVX-512BW/VL).
    case avx512bf16 = 3

    public var description: String { String(cString: obclip_isa_name(rawValue)) }

    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.rawValue < b.rawValue }
}

/// Which instruction set the C kernels run with, chosen once at run time from the CPU (and
/// the `OBCLIP_ISA` environment variable, which caps it so benchmarks can compare paths).
public enum KernelDispatch {
    /// The level in use.
    public static var isa: KernelISA { KernelISA(rawValue: obc_isa()) ?? .generic }

    /// Every level this CPU can run (after the `OBCLIP_ISA` cap), best first.
    public static var available: [KernelISA] {
        KernelISA.allCases.filter { $0.rawValue <= obclip_detected_isa() }.reversed()
    }

    /// Runs `body` with the kernels capped at `isa`, so tests can check every path on one
    /// machine. Not for use while other kernels run concurrently.
    public static func withKernels<T>(_ isa: KernelISA, _ body: () throws -> T) rethrows -> T {
        obclip_limit_isa(isa.rawValue)
        defer { obclip_limit_isa(Int32(OBC_ISA_BEST)) }
        return try body()
    }
}
