import XCTest
@testable import TensorCore

/// Weights packed at f16/bf16: the rounding itself, and GEMM/convolution with half panels.
///
/// Widening a half to f32 is exact and the half kernels accumulate in the same order as the f32
/// ones, so a half-precision product must equal, bit for bit, the f32 product with the weights
/// rounded first. That pins the kernels (both ISA paths) exactly; the only approximation is the
/// rounding, bounded separately by the format's unit roundoff.
final class HalfPrecisionTests: XCTestCase {
    private let halfPrecisions: [WeightPrecision] = [.f16, .bf16]

    /// Relative rounding error bound (half an ulp) for normal numbers.
    private func unitRoundoff(_ p: WeightPrecision) -> Double {
        switch p {
        case .fp32: 0x1p-24
        case .f16: 0x1p-11
        case .bf16: 0x1p-8
        }
    }

    func testRoundingIsToNearestEvenWithF16RangeAndSubnormals() {
        func f16(_ x: Float) -> Float { WeightPrecision.f16.rounded(Tensor(shape: [1], scalars: [x])).scalars[0] }
        func bf16(_ x: Float) -> Float { WeightPrecision.bf16.rounded(Tensor(shape: [1], scalars: [x])).scalars[0] }
        XCTAssertEqual(f16(1.0 / 3), 0.333251953125)
        XCTAssertEqual(f16(1 + 0x1p-11), 1, "tie rounds to the even neighbour below")
        XCTAssertEqual(f16(1 + 3 * 0x1p-11), 1 + 0x1p-9, "tie rounds to the even neighbour above")
        XCTAssertEqual(f16(-65504), -65504)
        XCTAssertEqual(f16(65520), .infinity, "beyond f16's range")
        XCTAssertEqual(f16(0x1p-24), 0x1p-24, "smallest subnormal is exact")
        XCTAssertEqual(f16(3 * 0x1p-26), 0x1p-24, "subnormals round to multiples of 2⁻²⁴")
        XCTAssertEqual(f16(0x1p-26), 0)
        XCTAssertTrue(f16(.nan).isNaN)
        XCTAssertEqual(bf16(1 + 0x1p-8), 1)
        XCTAssertEqual(bf16(1 + 3 * 0x1p-8), 1 + 0x1p-6)
        XCTAssertEqual(bf16(1e38) / 1e38, 1, accuracy: 0x1p-8, "bf16 keeps f32's range")
        XCTAssertTrue(bf16(.nan).isNaN)
        var rng = SeededValues(seed: 40)
        let x = rng.tensor([4096], scale: 8)
        for p in halfPrecisions {
            let r = p.rounded(x)
            for i in 0..<x.count where Swift.abs(x.pointer[i]) > 1e-4 {
                let e = Swift.abs(Double(r.pointer[i]) - Double(x.pointer[i])) / Swift.abs(Double(x.pointer[i]))
                XCTAssertLessThanOrEqual(e, unitRoundoff(p), "\(p) rounding of \(x.pointer[i])")
            }
        }
    }

    func testHalfWeightsUseHalfTheMemory() {
        var rng = SeededValues(seed: 41)
        let w = rng.tensor([100, 70])
        let f32 = PackedMatrix(w), f16 = PackedMatrix(w, precision: .f16), bf16 = PackedMatrix(w, precision: .bf16)
        XCTAssertEqual(f32.byteCount, 100 * 80 * 4, "columns padded to 16")
        XCTAssertEqual(f16.byteCount * 2, f32.byteCount)
        XCTAssertEqual(bf16.byteCount * 2, f32.byteCount)
    }

    func testGEMMWithHalfWeightsEqualsF32GEMMWithRoundedWeights() {
        var rng = SeededValues(seed: 42)
        // Around the 6×16 tile and the k-blocks; the last two split across workers.
        for (m, n, k) in [(7, 13, 5), (13, 17, 257), (145, 33, 300), (1030, 24, 40), (4, 700, 70)] {
            let a = rng.tensor([m, k]), b = rng.tensor([k, n]), bias = rng.tensor([n])
            var exact = [Double](repeating: 0, count: m * n), magnitude = exact
            for i in 0..<m { for j in 0..<n {
                exact[i * n + j] = Double(bias.pointer[j])
                for p in 0..<k {
                    let term = Double(a.pointer[i * k + p]) * Double(b.pointer[p * n + j])
                    exact[i * n + j] += term
                    magnitude[i * n + j] += Swift.abs(term)
                }
            } }
            for precision in halfPrecisions {
                let half = PackedMatrix(b, precision: precision), rounded = PackedMatrix(precision.rounded(b))
                forEachConfiguration { label in
                    let c = Tensor(zeros: [m, n]), want = Tensor(zeros: [m, n])
                    gemm(m: m, a: a.pointer, lda: k, b: half, c: c.pointer, ldc: n, bias: bias.pointer, accumulate: false)
                    gemm(m: m, a: a.pointer, lda: k, b: rounded, c: want.pointer, ldc: n, bias: bias.pointer, accumulate: false)
                    XCTAssertEqual(c.scalars, want.scalars, "\(label) \(precision) \(m)×\(n)×\(k)")
                    // Each weight is off by at most its unit roundoff, so each output by at most
                    // u·Σ|a·b| (plus f32 accumulation, far smaller).
                    let bound = unitRoundoff(precision) * 1.01
                    for i in 0..<(m * n) {
                        XCTAssertLessThanOrEqual(Swift.abs(Double(c.pointer[i]) - exact[i]), bound * magnitude[i] + 1e-6,
                                                 "\(label) \(precision) element \(i)")
                    }
                }
            }
        }
    }

    func testConvolutionWithHalfWeightsEqualsF32ConvolutionWithRoundedWeights() {
        var rng = SeededValues(seed: 43)
        let x = rng.tensor([2, 6, 7, 19]), weight = rng.tensor([21, 19, 3, 3]), bias = rng.tensor([21])
        for precision in halfPrecisions {
            let half = Conv2dWeight(weight: weight, bias: bias, stride: 1, padding: 1, precision: precision)
            let rounded = Conv2dWeight(weight: precision.rounded(weight), bias: bias, stride: 1, padding: 1)
            forEachConfiguration { label in
                XCTAssertEqual(conv2d(x, half).scalars, conv2d(x, rounded).scalars, "\(label) \(precision)")
            }
        }
    }
}
