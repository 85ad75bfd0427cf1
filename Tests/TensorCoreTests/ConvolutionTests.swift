import XCTest
@testable import TensorCore

final class ConvolutionTests: XCTestCase {
    /// Direct NHWC convolution in double with PyTorch's `[out, in, k, k]` weights.
    private func reference(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: Int, padding: Int) -> (shape: [Int], values: [Double]) {
        let (n, h, wd, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, k) = (w.shape[0], w.shape[2])
        let oh = (h + 2 * padding - k) / stride + 1, ow = (wd + 2 * padding - k) / stride + 1
        var out = [Double](repeating: 0, count: n * oh * ow * cout)
        for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<cout {
            var s = bias.map { Double($0.pointer[o]) } ?? 0
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                for c in 0..<cin {
                    s += Double(x.pointer[((b * h + iy) * wd + ix) * cin + c]) * Double(w.pointer[((o * cin + c) * k + ky) * k + kx])
                }
            } }
            out[((b * oh + oy) * ow + ox) * cout + o] = s
        } } } }
        return ([n, oh, ow, cout], out)
    }

    func testConvolutionMatchesReferenceAcrossGeometries() {
        var rng = SeededValues(seed: 10)
        // (batch, h, w, cin, cout, kernel, stride, padding)
        let cases = [
            (1, 7, 9, 5, 13, 3, 1, 1),   // odd sizes, channels not multiples of 8
            (2, 9, 7, 6, 11, 3, 2, 1),   // stride 2 with padding, odd input
            (1, 8, 8, 3, 17, 3, 2, 0),   // stride 2 without padding
            (2, 5, 6, 7, 9, 1, 1, 0),    // 1×1 → plain GEMM path
            (1, 6, 5, 4, 3, 1, 2, 0),    // 1×1 with stride (implicit path)
            (1, 4, 4, 300, 20, 3, 1, 1), // depth crosses k-blocks inside a tap
            (1, 3, 5, 2, 4, 3, 1, 2),    // padding larger than the image border taps
        ]
        for (n, h, w, cin, cout, k, stride, padding) in cases {
            let x = rng.tensor([n, h, w, cin]), weight = rng.tensor([cout, cin, k, k]), bias = rng.tensor([cout])
            let conv = Conv2dWeight(weight: weight, bias: bias, stride: stride, padding: padding)
            let (shape, expected) = reference(x, weight, bias, stride: stride, padding: padding)
            XCTAssertEqual(conv.outputSize(height: h, width: w).height, shape[1])
            XCTAssertEqual(conv.outputSize(height: h, width: w).width, shape[2])
            forEachConfiguration { label in
                let y = conv2d(x, conv)
                XCTAssertEqual(y.shape, shape)
                assertMatches(y, expected, "\(label) conv \(n)×\(h)×\(w)×\(cin)→\(cout) k\(k) s\(stride) p\(padding)")
            }
        }
    }

    func testConvolutionAddsAResidualAndAPerImageBiasAsItStores() {
        var rng = SeededValues(seed: 12)
        // Three images of 7×5 = 35 rows: the workers' row ranges straddle images.
        for (k, padding) in [(3, 1), (1, 0)] {
            let x = rng.tensor([3, 7, 5, 6]), weight = rng.tensor([19, 6, k, k]), bias = rng.tensor([19])
            let residual = rng.tensor([3, 7, 5, 19]), imageBias = rng.tensor([3, 19])
            let plain = reference(x, weight, bias, stride: 1, padding: padding).values
            for withBias in [true, false] {
                let conv = Conv2dWeight(weight: weight, bias: withBias ? bias : nil, stride: 1, padding: padding)
                var want = plain
                for i in 0..<want.count {
                    let (image, o) = (i / (35 * 19), i % 19)
                    if !withBias { want[i] -= Double(bias.pointer[o]) }
                    want[i] += Double(residual.pointer[i]) + Double(imageBias.pointer[image * 19 + o])
                }
                forEachConfiguration { label in
                    let y = conv2d(x, conv, adding: residual, addingPerImage: imageBias)
                    assertMatches(y, want, "\(label) k\(k) bias \(withBias)")
                }
            }
        }
    }

    func testConvolutionWithoutBiasAndItsFLOPCount() {
        var rng = SeededValues(seed: 11)
        let x = rng.tensor([1, 5, 5, 4]), weight = rng.tensor([6, 4, 3, 3])
        let conv = Conv2dWeight(weight: weight, bias: nil, stride: 1, padding: 1)
        let meter = FLOPMeter()
        let y = meter.measure { conv2d(x, conv) }
        assertMatches(y, reference(x, weight, nil, stride: 1, padding: 1).values, "no bias")
        XCTAssertEqual(meter.multiplyAdds(of: .convolution), 5 * 5 * 6 * 4 * 9)
        let counter = FLOPMeter(countOnly: true)
        let z = counter.measure { conv2d(x, conv) }
        XCTAssertEqual(counter.multiplyAdds, meter.multiplyAdds)
        XCTAssertEqual(z.scalars, [Float](repeating: 0, count: z.count))
    }
}
