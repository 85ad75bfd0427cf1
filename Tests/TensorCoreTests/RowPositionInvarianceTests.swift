import XCTest
import TensorCore

/// Batching is meant to be bit-transparent: an image's (or a row's) result must not depend on
/// where it sits in the batch. Each kernel runs the same input alone and as the last images of
/// a larger batch whose earlier rows shift it against the GEMM's 6-row register tiles, and the
/// two results must be equal bit for bit.
final class RowPositionInvarianceTests: XCTestCase {
    /// Asserts `batched`'s trailing `alone.count` scalars equal `alone`'s bit for bit.
    private func assertTailIsBitIdentical(_ batched: Tensor, _ alone: Tensor, _ label: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        let offset = batched.count - alone.count
        var differing = 0, first = -1
        for i in 0..<alone.count where batched.pointer[offset + i].bitPattern != alone.pointer[i].bitPattern {
            differing += 1
            if first < 0 { first = i }
        }
        XCTAssertEqual(differing, 0, "\(label): \(differing) of \(alone.count) values differ from the run alone"
                       + (first >= 0 ? " (first at \(first): \(batched.pointer[offset + first]) vs \(alone.pointer[first]))" : ""),
                       file: file, line: line)
    }

    func testLinearWithBiasAndResidualIgnoresRowPosition() {
        var rng = SeededValues(seed: 11)
        let weight = LinearWeight(weight: rng.tensor([40, 24]), bias: rng.tensor([40]))
        // 4 rows alone are one partial tile; after 4 other rows, two of them share a full tile.
        let x = rng.tensor([1, 4, 24]), residual = rng.tensor([1, 4, 40])
        let before = rng.tensor([1, 4, 24]), residualBefore = rng.tensor([1, 4, 40])
        forEachConfiguration { label in
            let alone = linear(x, weight, adding: residual)
            let batched = linear(concatBatch([before, x]), weight, adding: concatBatch([residualBefore, residual]))
            assertTailIsBitIdentical(batched, alone, "\(label) linear")
        }
    }

    func testConvolutionWithBiasAndResidualIgnoresImagePosition() {
        var rng = SeededValues(seed: 12)
        let weight = Conv2dWeight(weight: rng.tensor([20, 8, 3, 3], scale: 0.2), bias: rng.tensor([20]), padding: 1)
        // 5×5 = 25 pixels per image, so each later image starts at a different tile offset.
        let x = rng.tensor([2, 5, 5, 8]), residual = rng.tensor([2, 5, 5, 20])
        let before = rng.tensor([3, 5, 5, 8]), residualBefore = rng.tensor([3, 5, 5, 20])
        let timeBias = rng.tensor([2, 20]), timeBiasBefore = rng.tensor([3, 20])
        forEachConfiguration { label in
            let alone = conv2d(x, weight, adding: residual)
            let batched = conv2d(concatBatch([before, x]), weight, adding: concatBatch([residualBefore, residual]))
            assertTailIsBitIdentical(batched, alone, "\(label) conv")
            let aloneTimed = conv2d(x, weight, adding: residual, addingPerImage: timeBias)
            let batchedTimed = conv2d(concatBatch([before, x]), weight, adding: concatBatch([residualBefore, residual]),
                                      addingPerImage: concatBatch([timeBiasBefore, timeBias]))
            assertTailIsBitIdentical(batchedTimed, aloneTimed, "\(label) conv + per-image bias")
        }
    }

    func testAttentionAndGroupNormIgnoreImagePosition() {
        var rng = SeededValues(seed: 13)
        let (tokens, channels, heads) = (70, 32, 2)
        let q = rng.tensor([1, tokens, channels]), k = rng.tensor([1, tokens, channels]), v = rng.tensor([1, tokens, channels])
        let others = (0..<3).map { _ in rng.tensor([2, tokens, channels]) }
        let gamma = rng.tensor([channels]), beta = rng.tensor([channels])
        forEachConfiguration { label in
            let alone = attention(q: q, k: k, v: v, heads: heads)
            let batched = attention(q: concatBatch([others[0], q]), k: concatBatch([others[1], k]),
                                    v: concatBatch([others[2], v]), heads: heads)
            assertTailIsBitIdentical(batched, alone, "\(label) attention")
            let normed = groupNorm(q, groups: 8, weight: gamma, bias: beta, eps: 1e-5, silu: true)
            let normedBatched = groupNorm(concatBatch([others[0], q]), groups: 8, weight: gamma, bias: beta, eps: 1e-5, silu: true)
            assertTailIsBitIdentical(normedBatched, normed, "\(label) groupNorm")
        }
    }
}
