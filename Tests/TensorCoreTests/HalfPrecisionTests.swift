import XCTest
@testable import TensorCore

/// Layers at f16/bf16: the rounding itself, and GEMM/convolution/attention at half precision.
///
/// f16 weights are widened exactly and accumulated in the f32 kernels' order, so an f16 product
/// must equal, bit for bit, the f32 product with the weights rounded first. bf16 also rounds the
/// activations: where the CPU has no bf16 dot products the f32 kernel forms the same rounded
/// products in the same order (bit for bit again); the AVX512-BF16 kernel adds each k-pair's two
/// exact products, a different f32 summation order, so it is held to f32 accumulation error.
/// The only approximation is then the rounding, bounded by the format's unit roundoff.
final class HalfPrecisionTests: XCTestCase {
    private let halfPrecisions: [Precision] = [.f16, .bf16]

    /// Relative rounding error bound (half an ulp) for normal numbers.
    private func unitRoundoff(_ p: Precision) -> Double {
        switch p {
        case .fp32: 0x1p-24
        case .f16: 0x1p-11
        case .bf16: 0x1p-8
        }
    }

    func testRoundingIsToNearestEvenWithF16RangeAndSubnormals() {
        func f16(_ x: Float) -> Float { Precision.f16.rounded(Tensor(shape: [1], scalars: [x])).scalars[0] }
        func bf16(_ x: Float) -> Float { Precision.bf16.rounded(Tensor(shape: [1], scalars: [x])).scalars[0] }
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

    /// The operands a GEMM at `precision` multiplies: bf16 rounds the activations too.
    private func roundedActivations(_ a: Tensor, _ precision: Precision) -> Tensor {
        precision == .bf16 ? precision.rounded(a) : a
    }

    /// Whether the kernels in effect compute `precision` in a different order than f32 does.
    private func reordersSums(_ precision: Precision) -> Bool {
        precision == .bf16 && KernelDispatch.isa >= .avx512bf16
    }

    func testGEMMAtHalfPrecisionEqualsF32GEMMOnRoundedOperands() {
        var rng = SeededValues(seed: 42)
        // Around the 6×16 tile and the 768-deep k-blocks (odd depths; 1541 splits into three
        // uneven blocks); the last two split across workers.
        for (m, n, k) in [(7, 13, 5), (13, 17, 257), (6, 40, 769), (5, 20, 1541), (145, 33, 300), (1030, 24, 40), (4, 700, 70)] {
            let a = rng.tensor([m, k]), b = rng.tensor([k, n]), bias = rng.tensor([n])
            for precision in halfPrecisions {
                let ra = roundedActivations(a, precision), rb = precision.rounded(b)
                var exact = [Double](repeating: 0, count: m * n), magnitude = exact, roundedExact = exact
                for i in 0..<m { for j in 0..<n {
                    exact[i * n + j] = Double(bias.pointer[j])
                    roundedExact[i * n + j] = Double(bias.pointer[j])
                    for p in 0..<k {
                        let term = Double(a.pointer[i * k + p]) * Double(b.pointer[p * n + j])
                        exact[i * n + j] += term
                        roundedExact[i * n + j] += Double(ra.pointer[i * k + p]) * Double(rb.pointer[p * n + j])
                        magnitude[i * n + j] += Swift.abs(term)
                    }
                } }
                let half = PackedMatrix(b, precision: precision), rounded = PackedMatrix(rb)
                forEachConfiguration { label in
                    let c = Tensor(zeros: [m, n]), want = Tensor(zeros: [m, n])
                    gemm(m: m, a: a.pointer, lda: k, b: half, c: c.pointer, ldc: n, bias: bias.pointer, accumulate: false)
                    gemm(m: m, a: ra.pointer, lda: k, b: rounded, c: want.pointer, ldc: n, bias: bias.pointer, accumulate: false)
                    if reordersSums(precision) {
                        // f32 accumulation of k exact products: within k·2⁻²⁴·Σ|a·b| of the exact sum.
                        for i in 0..<(m * n) {
                            XCTAssertLessThanOrEqual(Swift.abs(Double(c.pointer[i]) - roundedExact[i]),
                                                     Double(k + 2) * 0x1p-24 * magnitude[i] * 1.1 + 1e-6,
                                                     "\(label) \(precision) element \(i)")
                        }
                    } else {
                        XCTAssertEqual(c.scalars, want.scalars, "\(label) \(precision) \(m)×\(n)×\(k)")
                    }
                    // Each operand is off by at most its unit roundoff, so each output by at most
                    // (2u + u²)·Σ|a·b| with both rounded (plus f32 accumulation, far smaller).
                    let u = unitRoundoff(precision), bound = (precision == .bf16 ? 2 * u + u * u : u) * 1.01
                    for i in 0..<(m * n) {
                        XCTAssertLessThanOrEqual(Swift.abs(Double(c.pointer[i]) - exact[i]), bound * magnitude[i] + 1e-5,
                                                 "\(label) \(precision) element \(i)")
                    }
                }
            }
        }
    }

    func testConvolutionAtHalfPrecisionEqualsF32ConvolutionOnRoundedOperands() {
        var rng = SeededValues(seed: 43)
        // 19 input channels: the bf16 k-pairs straddle the 3×3 taps.
        let x = rng.tensor([2, 6, 7, 19]), weight = rng.tensor([21, 19, 3, 3]), bias = rng.tensor([21])
        for precision in halfPrecisions {
            let half = Conv2dWeight(weight: weight, bias: bias, stride: 1, padding: 1, precision: precision)
            let rounded = Conv2dWeight(weight: precision.rounded(weight), bias: bias, stride: 1, padding: 1)
            let rx = roundedActivations(x, precision)
            forEachConfiguration { label in
                let got = conv2d(x, half), want = conv2d(rx, rounded)
                if reordersSums(precision) {
                    assertMatches(got, doubles(want), tolerance: 1e-5, "\(label) \(precision)")
                } else {
                    XCTAssertEqual(got.scalars, want.scalars, "\(label) \(precision)")
                }
            }
        }
    }

    func testBF16AttentionEqualsF32AttentionOnRoundedOperandsUpToProbabilityRounding() {
        var rng = SeededValues(seed: 44)
        // More than one block of queries (64) and of keys (240), so the online rescaling and the
        // causal blocks shorter than V's packed depth run too.
        for (b, heads, tq, tk, d, causal) in [(1, 2, 77, 77, 8, true), (2, 1, 150, 300, 7, false), (1, 1, 5, 77, 40, false),
                                              (1, 1, 130, 500, 40, false), (1, 2, 300, 300, 16, true)] {
            let q = rng.tensor([b, tq, heads * d], scale: 2), k = rng.tensor([b, tk, heads * d], scale: 2)
            let v = rng.tensor([b, tk, heads * d])
            let bf16 = Precision.bf16
            let want = attention(q: bf16.rounded(q), k: bf16.rounded(k), v: bf16.rounded(v), heads: heads, causal: causal)
            forEachConfiguration { label in
                // The probabilities are rounded to bf16 too: each output moves by at most 2⁻⁸ of
                // the largest |v| (the probabilities of a row sum to one).
                let got = attention(q: q, k: k, v: v, heads: heads, causal: causal, precision: bf16)
                assertMatches(got, doubles(want), tolerance: 0x1p-8, "\(label) b\(b) h\(heads) \(tq)×\(tk) d\(d)")
                XCTAssertNotEqual(got.scalars, want.scalars, "\(label): bf16 attention must round its probabilities")
            }
        }
    }
}
