import XCTest
import TensorCore

final class KernelDispatchTests: XCTestCase {
    /// The kernel tests run every path in `KernelDispatch.available`; this one makes a CPU
    /// without AVX-512 (or without AVX512-BF16) visible as a skip instead of silently testing
    /// fewer paths.
    func testEveryAvailablePathCanBeForcedAndAVX512IsTestedWhenPresent() throws {
        for isa in KernelDispatch.available {
            KernelDispatch.withKernels(isa) { XCTAssertEqual(KernelDispatch.isa, isa) }
        }
        XCTAssertEqual(KernelDispatch.available.last, .generic)
        XCTAssertEqual(KernelDispatch.isa, KernelDispatch.available.first, "forcing must be undone")
        guard KernelDispatch.available.contains(.avx512) else {
            throw XCTSkip("this CPU (or OBCLIP_ISA) has no AVX-512F: the AVX-512 micro-kernel was not tested")
        }
        guard KernelDispatch.available.contains(.avx512bf16) else {
            throw XCTSkip("this CPU (or OBCLIP_ISA) has no AVX512-BF16: bf16 ran its f32 emulation only")
        }
    }
}
