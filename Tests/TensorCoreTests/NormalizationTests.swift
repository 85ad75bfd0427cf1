import XCTest
@testable import TensorCore

final class NormalizationTests: XCTestCase {
    func testGroupNormMatchesReference() {
        var rng = SeededValues(seed: 40)
        // (shape, groups): NHWC with odd spatial sizes, sequences, channel counts not multiples of 8.
        let cases: [([Int], Int)] = [([2, 5, 7, 12], 4), ([1, 3, 3, 30], 3), ([3, 11, 6], 2), ([1, 32, 9, 320], 32)]
        for (shape, groups) in cases {
            // An offset mean checks the variance is not taken as E[x²] in float.
            let x = rng.tensor(shape, scale: 2, offset: 0.7)
            let c = shape.last!, n = shape[0], spatial = x.count / (n * c), cg = c / groups
            let w = rng.tensor([c]), b = rng.tensor([c])
            var plain = [Double](repeating: 0, count: x.count)
            for bi in 0..<n { for g in 0..<groups {
                var sum = 0.0, sq = 0.0
                for s in 0..<spatial { for j in 0..<cg { sum += Double(x.pointer[(bi * spatial + s) * c + g * cg + j]) } }
                let mean = sum / Double(spatial * cg)
                for s in 0..<spatial { for j in 0..<cg {
                    let d = Double(x.pointer[(bi * spatial + s) * c + g * cg + j]) - mean
                    sq += d * d
                } }
                let inv = 1 / (sq / Double(spatial * cg) + 1e-5).squareRoot()
                for s in 0..<spatial { for j in 0..<cg {
                    let idx = (bi * spatial + s) * c + g * cg + j
                    plain[idx] = (Double(x.pointer[idx]) - mean) * inv * Double(w.pointer[g * cg + j]) + Double(b.pointer[g * cg + j])
                } }
            } }
            let withSiLU = plain.map { $0 / (1 + Foundation.exp(-$0)) }
            forEachConfiguration { label in
                assertMatches(groupNorm(x, groups: groups, weight: w, bias: b, eps: 1e-5), plain,
                              "\(label) groupNorm \(shape) g\(groups)")
                assertMatches(groupNorm(x, groups: groups, weight: w, bias: b, eps: 1e-5, silu: true), withSiLU,
                              "\(label) groupNorm+SiLU \(shape) g\(groups)")
            }
        }
    }

    func testLayerNormAndSoftmaxMatchReference() {
        var rng = SeededValues(seed: 41)
        for shape in [[1, 1, 1], [2, 77, 64], [3, 13], [1, 5, 1000]] {
            let c = shape.last!, rows = shape.reduce(1, *) / c
            let x = rng.tensor(shape, scale: 5, offset: 1), w = rng.tensor([c]), b = rng.tensor([c])
            var ln = [Double](repeating: 0, count: x.count), sm = ln
            for r in 0..<rows {
                let row = (0..<c).map { Double(x.pointer[r * c + $0]) }
                let mean = row.reduce(0, +) / Double(c)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
                let mx = row.max()!, e = row.map { Foundation.exp($0 - mx) }, sum = e.reduce(0, +)
                for j in 0..<c {
                    ln[r * c + j] = (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(w.pointer[j]) + Double(b.pointer[j])
                    sm[r * c + j] = e[j] / sum
                }
            }
            forEachConfiguration { label in
                assertMatches(layerNorm(x, weight: w, bias: b, eps: 1e-5), ln, "\(label) layerNorm \(shape)")
                assertMatches(softmax(x), sm, "\(label) softmax \(shape)")
            }
        }
    }

    func testNormalizationFLOPCounts() {
        let x = Tensor(shape: [1, 4, 8], repeating: 1), w = Tensor(shape: [8], repeating: 1), b = Tensor(zeros: [8])
        let meter = FLOPMeter(countOnly: true)
        meter.measure {
            _ = groupNorm(x, groups: 2, weight: w, bias: b, eps: 1e-5)
            _ = layerNorm(x, weight: w, bias: b, eps: 1e-5)
        }
        XCTAssertEqual(meter.multiplyAdds(of: .normalization), 2 * 3 * 32)
    }
}
