import XCTest
@testable import TensorCore

final class FLOPMeterTests: XCTestCase {
    func testProfilingMeterChargesKernelTimeToItsKindOnly() {
        var rng = SeededValues(seed: 50)
        let x = rng.tensor([1, 64, 128]), w = LinearWeight(weight: rng.tensor([96, 128]), bias: nil)
        let profiler = FLOPMeter(profiling: true), plain = FLOPMeter()
        let profiled = profiler.measure { silu(linear(x, w)) }
        let unprofiled = plain.measure { silu(linear(x, w)) }
        XCTAssertEqual(profiled.scalars, unprofiled.scalars)
        for meter in [profiler, plain] {
            XCTAssertEqual(meter.multiplyAdds(of: .gemm), 64 * 128 * 96)
            XCTAssertEqual(meter.multiplyAdds(of: .elementwise), 64 * 96)
        }
        XCTAssertGreaterThan(profiler.seconds(of: .gemm), 0)
        XCTAssertGreaterThan(profiler.seconds(of: .elementwise), 0)
        XCTAssertEqual(profiler.seconds(of: .convolution), 0, "no convolution ran")
        for kind in FLOPMeter.Kind.allCases { XCTAssertEqual(plain.seconds(of: kind), 0, "a plain meter never times") }
        profiler.reset()
        XCTAssertEqual(profiler.seconds(of: .gemm), 0)
        XCTAssertEqual(profiler.multiplyAdds, 0)
    }
}
