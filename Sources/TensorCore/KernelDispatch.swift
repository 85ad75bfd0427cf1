import CKernels

/// Which instruction set the C kernels run with, chosen once at run time from the CPU.
public enum KernelDispatch {
    /// "avx2" (AVX2 + FMA micro-kernels and vector math) or "generic" (portable C).
    public static var isa: String { String(cString: obclip_kernel_isa()) }

    /// Runs `body` with the portable kernels forced, so tests can check both paths on one
    /// machine. Not for use while other kernels run concurrently.
    public static func withPortableKernels<T>(_ body: () throws -> T) rethrows -> T {
        obclip_force_generic(1)
        defer { obclip_force_generic(0) }
        return try body()
    }
}
