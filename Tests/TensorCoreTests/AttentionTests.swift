import XCTest
@testable import TensorCore

final class AttentionTests: XCTestCase {
    /// softmax(q·kᵀ/√d (masked))·v per head, in double, materialising the whole score matrix.
    private func reference(q: Tensor, k: Tensor, v: Tensor, heads: Int, causal: Bool) -> [Double] {
        let (b, tq, cq) = (q.shape[0], q.shape[1], q.shape[2])
        let (tk, cv) = (k.shape[1], v.shape[2])
        let d = cq / heads, dv = cv / heads
        var out = [Double](repeating: 0, count: b * tq * cv)
        for bi in 0..<b { for h in 0..<heads { for i in 0..<tq {
            let visible = causal ? Swift.min(i + 1, tk) : tk
            var scores = [Double](repeating: 0, count: visible)
            for j in 0..<visible {
                var s = 0.0
                for t in 0..<d { s += Double(q.pointer[(bi * tq + i) * cq + h * d + t]) * Double(k.pointer[(bi * tk + j) * cq + h * d + t]) }
                scores[j] = s / Double(d).squareRoot()
            }
            let mx = scores.max() ?? 0
            let e = scores.map { Foundation.exp($0 - mx) }
            let sum = e.reduce(0, +)
            for t in 0..<dv {
                var o = 0.0
                for j in 0..<visible { o += e[j] / sum * Double(v.pointer[(bi * tk + j) * cv + h * dv + t]) }
                out[(bi * tq + i) * cv + h * dv + t] = o
            }
        } } }
        return out
    }

    func testAttentionMatchesReferenceAcrossShapes() {
        var rng = SeededValues(seed: 20)
        // (batch, heads, queries, keys, d, dv, causal)
        let cases = [
            (1, 1, 1, 1, 1, 1, false),
            (2, 3, 7, 13, 5, 9, false),     // tq ≠ tk, d ≠ dv, odd everything
            (1, 2, 77, 77, 8, 8, true),     // CLIP-like causal
            (1, 1, 20, 9, 4, 3, true),      // causal with more queries than keys
            (1, 2, 150, 300, 12, 17, false),// several query and key blocks
            (1, 1, 300, 300, 6, 6, true),   // causal over several key blocks
            (2, 1, 5, 77, 40, 40, false),   // cross-attention-like
        ]
        for (b, heads, tq, tk, d, dv, causal) in cases {
            // Large-ish logits exercise the running-max rescaling.
            let q = rng.tensor([b, tq, heads * d], scale: 3), k = rng.tensor([b, tk, heads * d], scale: 3)
            let v = rng.tensor([b, tk, heads * dv])
            let expected = reference(q: q, k: k, v: v, heads: heads, causal: causal)
            forEachConfiguration { label in
                let y = attention(q: q, k: k, v: v, heads: heads, causal: causal)
                XCTAssertEqual(y.shape, [b, tq, heads * dv])
                assertMatches(y, expected, "\(label) b\(b) h\(heads) tq\(tq) tk\(tk) d\(d) dv\(dv) causal=\(causal)")
            }
        }
    }

    func testAttentionCountsMultiplyAdds() {
        var rng = SeededValues(seed: 21)
        let q = rng.tensor([2, 5, 8]), k = rng.tensor([2, 7, 8]), v = rng.tensor([2, 7, 6])
        let meter = FLOPMeter(countOnly: true)
        let y = meter.measure { attention(q: q, k: k, v: v, heads: 2) }
        XCTAssertEqual(meter.multiplyAdds(of: .attention), 2 * 2 * 5 * 7 * (4 + 3))
        XCTAssertEqual(y.shape, [2, 5, 6])
    }
}
