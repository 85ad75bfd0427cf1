import XCTest
@testable import TensorCore

final class StoredTensorTests: XCTestCase {
    private let values = Tensor(shape: [2, 3, 5], scalars: (0..<30).map { Float($0) * 0.3711 - 4.2 + 1e-3 * Float($0 * $0) })

    /// bf16 storage keeps exactly the values a bf16 layer would have rounded to, in half the bytes.
    func testBF16StorageKeepsTheRoundedValuesInHalfTheBytes() {
        let stored = StoredTensor(values, precision: .bf16)
        XCTAssertEqual(stored.shape, [2, 3, 5])
        XCTAssertEqual(stored.byteCount, 30 * 2)
        XCTAssertEqual(stored.tensor.scalars, Precision.bf16.rounded(values).scalars)
        XCTAssertNotEqual(stored.tensor.scalars, values.scalars, "the fixture must have values bf16 cannot hold")
    }

    /// fp32 and f16 layers keep activations unrounded (f16 is a weight format).
    func testOtherPrecisionsKeepTheTensorItself() {
        for precision in [Precision.fp32, .f16] {
            let stored = StoredTensor(values, precision: precision)
            XCTAssertEqual(stored.byteCount, 30 * 4)
            XCTAssertEqual(stored.tensor.pointer, values.pointer)
        }
    }
}
