import XCTest
@testable import TensorCore

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) against a double-precision direct convolution, on every
/// kernel path.
///
/// Error bounds (max |error| / max |expected|, uniform(-1, 1) data): fp32 Winograd 1e-5, as for
/// the direct kernel; bf16 layers 1.5e-2 of the exact result for the f32 weights, for F(2×2)
/// (bf16 transformed weights and activations, bf16 dot products) and F(4×4) (f16 weights, f32
/// products) alike, against the direct bf16 kernel's 8e-3.
final class WinogradTests: XCTestCase {
    override func tearDown() {
        ConvolutionPolicy.current = .auto
        winogradChunkBytes = defaultWinogradChunkBytes
    }

    /// `conv(upsample(act(x·mul + add)))` in double, PyTorch weight layout, zero padding.
    private func reference(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, padding: Int, affine: ChannelAffine? = nil,
                           upsampled: Bool = false, residual: Tensor? = nil, imageBias: Tensor? = nil) -> [Double] {
        let (n, sh, sw, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (h, wd) = upsampled ? (2 * sh, 2 * sw) : (sh, sw)
        let cout = w.shape[0]
        let oh = h + 2 * padding - 2, ow = wd + 2 * padding - 2
        // The real input, in double.
        var input = [Double](repeating: 0, count: n * h * wd * cin)
        for b in 0..<n { for iy in 0..<h { for ix in 0..<wd { for c in 0..<cin {
            let sy = upsampled ? iy / 2 : iy, sx = upsampled ? ix / 2 : ix
            var v = Double(x.pointer[((b * sh + sy) * sw + sx) * cin + c])
            if let affine {
                v = v * Double(affine.mul[b * cin + c]) + Double(affine.add[b * cin + c])
                if affine.silu { v = v / (1 + exp(-v)) }
            }
            input[((b * h + iy) * wd + ix) * cin + c] = v
        } } } }
        var out = [Double](repeating: 0, count: n * oh * ow * cout)
        for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<cout {
            var s = bias.map { Double($0.pointer[o]) } ?? 0
            if let imageBias { s += Double(imageBias.pointer[b * cout + o]) }
            for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy - padding + ky, ix = ox - padding + kx
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                for c in 0..<cin {
                    s += input[((b * h + iy) * wd + ix) * cin + c] * Double(w.pointer[((o * cin + c) * 3 + ky) * 3 + kx])
                }
            } }
            let at = ((b * oh + oy) * ow + ox) * cout + o
            out[at] = s + (residual.map { Double($0.pointer[at]) } ?? 0)
        } } } }
        return out
    }

    static let winogradPolicies: [ConvolutionPolicy] = [.winograd2, .winograd4]

    func testWinogradMatchesTheDirectConvolutionAcrossGeometries() {
        var rng = SeededValues(seed: 40)
        // (batch, h, w, cin, cout, padding)
        let cases = [
            (1, 7, 9, 5, 13, 1),   // sizes not multiples of the 4×4 output tile, channel tails
            (2, 8, 8, 16, 32, 1),  // whole tiles and whole 16-channel blocks, two images
            (1, 6, 5, 40, 17, 0),  // no padding (output 4×3)
            (1, 5, 4, 19, 21, 2),  // padding wider than the tile's border
            (1, 3, 3, 300, 20, 1), // depth over one GEMM k-block
        ]
        for (n, h, w, cin, cout, padding) in cases {
            let x = rng.tensor([n, h, w, cin]), weight = rng.tensor([cout, cin, 3, 3]), bias = rng.tensor([cout])
            let expected = reference(x, weight, bias, padding: padding)
            for policy in Self.winogradPolicies {
                ConvolutionPolicy.current = policy
                let conv = Conv2dWeight(weight: weight, bias: bias, padding: padding)
                forEachConfiguration { label in
                    let y = conv2d(x, conv)
                    XCTAssertEqual(y.shape, [n, h + 2 * padding - 2, w + 2 * padding - 2, cout])
                    assertMatches(y, expected, tolerance: 1e-5, "\(label) \(policy) \(n)×\(h)×\(w)×\(cin)→\(cout) p\(padding)")
                }
            }
        }
    }

    func testWinogradAppliesNormalisationUpsampleResidualAndPerImageBias() {
        var rng = SeededValues(seed: 41)
        // Chunks of a few tiles, so the three images' 3×3 tiles straddle chunk boundaries.
        winogradChunkBytes = 36 * (24 + 20) * 4 * 5
        let (n, h, w, cin, cout) = (3, 5, 6, 24, 20)
        let x = rng.tensor([n, h, w, cin]), weight = rng.tensor([cout, cin, 3, 3]), bias = rng.tensor([cout])
        let gnWeight = rng.tensor([cin], offset: 1), gnBias = rng.tensor([cin])
        let affine = groupNormAffine(x, groups: 4, weight: gnWeight, bias: gnBias, eps: 1e-5, silu: true)
        let residual = rng.tensor([n, 2 * h, 2 * w, cout]), imageBias = rng.tensor([n, cout])
        let expected = reference(x, weight, bias, padding: 1, affine: affine, upsampled: true, residual: residual, imageBias: imageBias)
        for policy in Self.winogradPolicies + [.direct] {
            ConvolutionPolicy.current = policy
            let conv = Conv2dWeight(weight: weight, bias: bias, padding: 1)
            forEachConfiguration { label in
                let y = conv2d(x, conv, normalizedBy: affine, upsampled: true, adding: residual, addingPerImage: imageBias)
                assertMatches(y, expected, tolerance: 1e-5, "\(label) \(policy) fused")
            }
        }
    }

    func testBF16WinogradStaysWithinItsErrorBound() {
        var rng = SeededValues(seed: 42)
        let (n, h, w, cin, cout) = (1, 12, 10, 64, 48)
        let x = rng.tensor([n, h, w, cin]), weight = rng.tensor([cout, cin, 3, 3]), bias = rng.tensor([cout])
        // The exact result for the f32 weights: the direct kernel rounds them to bf16, Winograd
        // rounds their transforms (to bf16 for F(2×2), to f16 for F(4×4)).
        let expected = reference(x, weight, bias, padding: 1)
        for (policy, bound) in [(ConvolutionPolicy.winograd2, 1.5e-2), (.winograd4, 1.5e-2), (.direct, 8e-3)] {
            ConvolutionPolicy.current = policy
            let conv = Conv2dWeight(weight: weight, bias: bias, padding: 1, precision: .bf16)
            forEachKernelPath { isa in
                assertMatches(conv2d(x, conv), expected, tolerance: bound, "\(isa) \(policy) bf16")
            }
        }
    }

    func testWinogradCountsDirectAndExecutedMultiplyAdds() {
        var rng = SeededValues(seed: 43)
        let x = rng.tensor([2, 9, 8, 8]), weight = rng.tensor([4, 8, 3, 3])
        // (policy, elements per tile, tiles over both 9×8 images)
        for (policy, elements, tiles) in [(ConvolutionPolicy.winograd4, 36, 2 * 3 * 2), (.winograd2, 16, 2 * 5 * 4)] {
            ConvolutionPolicy.current = policy
            let conv = Conv2dWeight(weight: weight, bias: nil, padding: 1)
            let meter = FLOPMeter(profiling: true)
            _ = meter.measure { conv2d(x, conv) }
            XCTAssertEqual(meter.multiplyAdds(of: .convolution), 2 * 9 * 8 * 4 * 8 * 9)
            XCTAssertEqual(meter.executedMultiplyAdds(of: .convolution), elements * tiles * 8 * 4)
            XCTAssertEqual(meter.breakdown.map(\.label), ["conv 3×3/1 9×8 8→4 \(policy.rawValue)"])
        }
        ConvolutionPolicy.current = .direct
        let conv = Conv2dWeight(weight: weight, bias: nil, padding: 1)
        let direct = FLOPMeter()
        _ = direct.measure { conv2d(x, conv) }
        XCTAssertEqual(direct.executedMultiplyAdds, direct.multiplyAdds)
    }

    func testOnlyThreeByThreeStrideOneConvolutionsRunAsWinograd() {
        var rng = SeededValues(seed: 44)
        for policy in Self.winogradPolicies + [.auto] {
            ConvolutionPolicy.current = policy
            let strided = Conv2dWeight(weight: rng.tensor([64, 64, 3, 3]), bias: nil, stride: 2, padding: 1, outputSide: 64)
            let pointwise = Conv2dWeight(weight: rng.tensor([64, 64, 1, 1]), bias: nil, outputSide: 64)
            let wide = Conv2dWeight(weight: rng.tensor([64, 64, 3, 3]), bias: nil, padding: 1, outputSide: 64)
            XCTAssertEqual(strided.method, .direct)
            XCTAssertEqual(pointwise.method, .direct)
            XCTAssertNotEqual(wide.method, .direct, "\(policy)")
        }
        ConvolutionPolicy.current = .direct
        XCTAssertEqual(Conv2dWeight(weight: rng.tensor([64, 64, 3, 3]), bias: nil, padding: 1, outputSide: 64).method, .direct)
    }

    func testTheRuleChoosesFromTheNativeOutputSideAndKeepsOneFormOfTheWeights() {
        var rng = SeededValues(seed: 45)
        let weight = rng.tensor([64, 64, 3, 3])
        ConvolutionPolicy.current = .auto
        // Without a native side the layer cannot be judged: direct.
        XCTAssertEqual(Conv2dWeight(weight: weight, bias: nil, padding: 1).method, .direct)
        for precision in Precision.allCases {
            for side in [4, 8, 16, 32, 64, 128] {
                let layer = Conv2dWeight(weight: weight, bias: nil, padding: 1, precision: precision, outputSide: side)
                XCTAssertEqual(layer.method, ConvolutionPolicy.rule(inChannels: 64, outChannels: 64, outputSide: side, precision: precision))
                // Only the chosen method's weights are kept: 9, 16 or 36 matrices of 64×64.
                let matrices = [ConvolutionMethod.direct: 9, .winograd2: 16, .winograd4: 36][layer.method]!
                let bytes = matrices * 64 * 64 * layer.method.weightFormat(precision).byteSize
                XCTAssertEqual(layer.byteCount, bytes, "\(precision) \(side)² \(layer.method)")
            }
        }
        // Narrow layers stay direct.
        let narrow = Conv2dWeight(weight: rng.tensor([16, 64, 3, 3]), bias: nil, padding: 1, outputSide: 64)
        XCTAssertEqual(narrow.method, .direct)
    }
}
