import XCTest
@testable import TensorCore

final class ElementwiseTests: XCTestCase {
    private func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    private func geluReference(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }

    /// Values spread over the range where the activations change shape, plus large tails.
    private func probe(_ rng: inout SeededValues, count: Int) -> Tensor {
        let t = rng.tensor([count], scale: 6)
        t.pointer[0] = -30; t.pointer[1] = 30; t.pointer[2] = 0
        return t
    }

    func testActivationsMatchReferencePerElement() {
        var rng = SeededValues(seed: 30)
        forEachKernelPath { isa in
            for count in [1, 7, 8, 37, 100_003] {
                let x = probe(&rng, count: Swift.max(count, 3)), xs = doubles(x)
                let checks: [(String, (Tensor) -> Tensor, (Double) -> Double)] = [
                    ("silu", silu, { $0 * self.sigmoid($0) }),
                    ("gelu", gelu, geluReference),
                    ("quickGelu", quickGelu, { $0 * self.sigmoid(1.702 * $0) }),
                ]
                for (name, f, ref) in checks {
                    let y = f(x)
                    // Per element relative accuracy, not just relative to the largest value.
                    for i in 0..<xs.count {
                        let want = ref(xs[i]), got = Double(y.pointer[i])
                        XCTAssertLessThanOrEqual(Swift.abs(got - want), 2e-6 * Swift.max(Swift.abs(want), 1e-3),
                                                 "\(isa) \(name)(\(xs[i])) = \(got), want \(want)")
                    }
                }
            }
        }
    }

    func testGEGLUAddScaleAndChannelVector() {
        var rng = SeededValues(seed: 31)
        forEachConfiguration { label in
            let x = rng.tensor([2, 5, 2 * 13], scale: 4)
            let g = geglu(x)
            XCTAssertEqual(g.shape, [2, 5, 13])
            var want = [Double](repeating: 0, count: 2 * 5 * 13)
            for r in 0..<10 { for j in 0..<13 {
                want[r * 13 + j] = Double(x.pointer[r * 26 + j]) * geluReference(Double(x.pointer[r * 26 + 13 + j]))
            } }
            assertMatches(g, want, "\(label) geglu")

            let a = rng.tensor([3, 40, 50, 7]), b = rng.tensor([3, 40, 50, 7])
            assertMatches(add(a, b), zip(doubles(a), doubles(b)).map { $0 + $1 }, tolerance: 1e-7, "\(label) add")
            assertMatches(scale(a, -2.5), doubles(a).map { $0 * -2.5 }, tolerance: 1e-7, "\(label) scale")
        }
    }

    func testLayoutKernels() {
        var rng = SeededValues(seed: 32)
        let x = rng.tensor([2, 3, 5, 4])
        let up = upsampleNearest2x(x)
        XCTAssertEqual(up.shape, [2, 6, 10, 4])
        for b in 0..<2 { for y in 0..<6 { for xx in 0..<10 { for c in 0..<4 {
            XCTAssertEqual(up.pointer[((b * 6 + y) * 10 + xx) * 4 + c], x.pointer[((b * 3 + y / 2) * 5 + xx / 2) * 4 + c])
        } } } }
        let y = rng.tensor([2, 3, 5, 3])
        let cat = concatLastAxis([x, y])
        XCTAssertEqual(cat.shape, [2, 3, 5, 7])
        for r in 0..<30 {
            XCTAssertEqual(Array(cat.scalars[(r * 7)..<(r * 7 + 4)]), Array(x.scalars[(r * 4)..<(r * 4 + 4)]))
            XCTAssertEqual(Array(cat.scalars[(r * 7 + 4)..<(r * 7 + 7)]), Array(y.scalars[(r * 3)..<(r * 3 + 3)]))
        }
        let both = concatBatch([x, x.slice(1, 1)])
        XCTAssertEqual(both.shape, [3, 3, 5, 4])
        XCTAssertEqual(Array(both.scalars[120...]), x.slice(1, 1).scalars)
        let nchw = nhwcToNCHW(x)
        XCTAssertEqual(nchw.shape, [2, 4, 3, 5])
        XCTAssertEqual(nchw.pointer[((1 * 4 + 2) * 3 + 1) * 5 + 3], x.pointer[((1 * 3 + 1) * 5 + 3) * 4 + 2])
        XCTAssertEqual(nchwToNHWC(nchw).scalars, x.scalars)
    }
}
