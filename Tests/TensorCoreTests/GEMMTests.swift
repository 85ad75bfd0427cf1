import XCTest
@testable import TensorCore

final class GEMMTests: XCTestCase {
    /// C = A·B (+bias) (+C0) in double.
    private func reference(m: Int, n: Int, k: Int, a: [Double], lda: Int, b: [Double], ldb: Int,
                           bias: [Double]?, c0: [Double]?) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = c0?[i * n + j] ?? 0
                if let bias { s += bias[j] }
                for p in 0..<k { s += a[i * lda + p] * b[p * ldb + j] }
                c[i * n + j] = s
            }
        }
        return c
    }

    func testGEMMMatchesReferenceOnOddShapes() {
        var rng = SeededValues(seed: 1)
        // Shapes around the 6×16 tile, the 768-deep k-blocks (uneven splits: 769, 1543) and the
        // 144-row A block; the last two are big enough to be split across workers (by columns,
        // then by rows).
        // Columns 33, 50, 100, 700 and 1000 end in every split of the 6×64 tiles of full-width
        // AVX-512 cores (a masked four-panel tile, two panels plus one).
        let shapes = [(1, 1, 1), (7, 13, 5), (6, 16, 768), (13, 17, 769), (145, 33, 300), (50, 100, 3), (2, 700, 40), (150, 5, 1543), (5, 50, 64),
                      (4, 1000, 70), (1030, 24, 12)]
        for (m, n, k) in shapes {
            let lda = k + 3, ldb = n + 2
            let a = rng.tensor([m, lda]), b = rng.tensor([k, ldb]), bias = rng.tensor([n]), c0 = rng.tensor([m, n])
            let product = reference(m: m, n: n, k: k, a: doubles(a), lda: lda, b: doubles(b), ldb: ldb, bias: nil, c0: nil)
            forEachConfiguration { label in
                for (useBias, accumulate) in [(false, false), (true, false), (true, true)] {
                    let c = c0.copy()
                    var expected = product
                    for i in 0..<m { for j in 0..<n {
                        if useBias { expected[i * n + j] += Double(bias.pointer[j]) }
                        if accumulate { expected[i * n + j] += Double(c0.pointer[i * n + j]) }
                    } }
                    gemm(m: m, n: n, k: k, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, c: c.pointer, ldc: n,
                         bias: useBias ? bias.pointer : nil, accumulate: accumulate)
                    assertMatches(c, expected, "\(label) m=\(m) n=\(n) k=\(k) bias=\(useBias) acc=\(accumulate)")
                }
            }
        }
    }

    func testLinearMatchesReferenceAndLeavesOtherColumnsAlone() {
        var rng = SeededValues(seed: 2)
        for (rows, inF, outF) in [(77, 64, 256), (3, 5, 7), (200, 320, 19)] {
            let x = rng.tensor([1, rows, inF]), w = rng.tensor([outF, inF]), bias = rng.tensor([outF])
            var expected = [Double](repeating: 0, count: rows * outF)
            for i in 0..<rows {
                for o in 0..<outF {
                    var s = Double(bias.pointer[o])
                    for p in 0..<inF { s += Double(x.pointer[i * inF + p]) * Double(w.pointer[o * inF + p]) }
                    expected[i * outF + o] = s
                }
            }
            let weight = LinearWeight(weight: w, bias: bias)
            let residual = rng.tensor([1, rows, outF])
            forEachConfiguration { label in
                let y = linear(x, weight)
                XCTAssertEqual(y.shape, [1, rows, outF])
                assertMatches(y, expected, "\(label) linear \(rows)×\(inF)→\(outF)")
                assertMatches(linear(x, weight, adding: residual), zip(expected, doubles(residual)).map { $0 + $1 },
                              "\(label) linear \(rows)×\(inF)→\(outF) + residual")
            }
        }
        // Writing a column sub-range through a wider ldc must not touch the columns beside it.
        let a = rng.tensor([9, 4]), b = rng.tensor([4, 5])
        let c = Tensor(shape: [9, 8], repeating: 42)
        gemm(m: 9, n: 5, k: 4, a: a.pointer, lda: 4, b: b.pointer, ldb: 5, c: c.pointer, ldc: 8, bias: nil, accumulate: false)
        for i in 0..<9 { for j in 5..<8 { XCTAssertEqual(c.pointer[i * 8 + j], 42) } }
    }

    func testFeedForwardInRowBlocksEqualsTheUnblockedLayers() {
        var rng = SeededValues(seed: 4)
        // 700 rows of a 6000-wide hidden layer: three row blocks of 349, 349 and 2.
        let x = rng.tensor([2, 350, 24]), residual = rng.tensor([2, 350, 10])
        let first = LinearWeight(weight: rng.tensor([6000, 24], scale: 0.2), bias: rng.tensor([6000]))
        let second = LinearWeight(weight: rng.tensor([10, 3000], scale: 0.02), bias: rng.tensor([10]))
        forEachConfiguration { label in
            let want = linear(geglu(linear(x, first)), second, adding: residual)
            let meter = FLOPMeter()
            let got = meter.measure { feedForward(x, first, activation: geglu, second, adding: residual) }
            XCTAssertEqual(got.shape, [2, 350, 10])
            assertMatches(got, doubles(want), tolerance: 1e-6, label)
            XCTAssertEqual(meter.multiplyAdds(of: .gemm), 700 * (6000 * 24 + 10 * 3000), label)
        }
    }

    func testGEMMCountsMultiplyAddsAndCountOnlySkipsWork() {
        var rng = SeededValues(seed: 3)
        let a = rng.tensor([10, 20]), b = rng.tensor([20, 30])
        let c = Tensor(shape: [10, 30], repeating: 7)
        let meter = FLOPMeter(countOnly: true)
        meter.measure {
            gemm(m: 10, n: 30, k: 20, a: a.pointer, lda: 20, b: b.pointer, ldb: 30, c: c.pointer, ldc: 30, bias: nil, accumulate: false)
        }
        XCTAssertEqual(meter.multiplyAdds(of: .gemm), 10 * 30 * 20)
        XCTAssertEqual(c.scalars, [Float](repeating: 7, count: 300))
    }
}
