import XCTest
import TensorCore

/// Deterministic uniform(-1, 1) values (SplitMix64), so failures reproduce exactly.
struct SeededValues {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(Double(z >> 40) / Double(1 << 24) * 2 - 1)
    }

    mutating func tensor(_ shape: [Int], scale: Float = 1, offset: Float = 0) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = next() * scale + offset }
        return Tensor(shape: shape, scalars: values)
    }
}

/// Asserts `max |actual − expected| ≤ tolerance · max |expected|` (and equal counts).
func assertMatches(_ actual: Tensor, _ expected: [Double], tolerance: Double = 1e-5,
                   _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    guard actual.count == expected.count else { return }
    let scale = Swift.max(expected.map { Swift.abs($0) }.max() ?? 0, 1e-30)
    var worst = 0.0, at = 0
    for i in 0..<expected.count {
        let e = Swift.abs(Double(actual.pointer[i]) - expected[i])
        if !(e <= worst) { worst = e; at = i }
    }
    XCTAssertLessThanOrEqual(worst / scale, tolerance,
                             "\(message): worst error \(worst) at \(at) (got \(actual.pointer[at]), want \(expected[at])), scale \(scale)",
                             file: file, line: line)
}

/// Runs `body` on every kernel path this CPU has (AVX-512, AVX2, portable), passing its name.
/// A missing path is reported once per run (KernelDispatchTests skips on it).
func forEachKernelPath(_ body: (String) throws -> Void) rethrows {
    for isa in KernelDispatch.available {
        try KernelDispatch.withKernels(isa) { try body(isa.description) }
    }
}

/// Runs `body` with `Parallel.threads` set to each count (restoring it afterwards).
func withThreads(_ counts: [Int], _ body: (Int) throws -> Void) rethrows {
    let saved = Parallel.threads
    defer { Parallel.threads = saved }
    for t in counts {
        Parallel.threads = t
        try body(t)
    }
}

/// Runs `body` on every kernel path × thread count (1 and 2), passing a label for messages.
func forEachConfiguration(_ body: (String) throws -> Void) rethrows {
    try forEachKernelPath { isa in try withThreads([1, 2]) { t in try body("\(isa) t=\(t)") } }
}

func doubles(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }
