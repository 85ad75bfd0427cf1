import XCTest
@testable import TensorCore

final class TensorTests: XCTestCase {
    func testReshapeSharesStorageAndSliceCopies() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let r = t.reshaped([3, 2])
        r.pointer[0] = 9
        XCTAssertEqual(t.scalars[0], 9)
        let s = t.slice(1, 1)
        XCTAssertEqual(s.shape, [1, 3])
        XCTAssertEqual(s.scalars, [4, 5, 6])
    }

    func testFLOPMeterCountsAndCountOnlySkipsArithmetic() {
        let x = Tensor(shape: [3, 4], repeating: 1)
        let w = LinearWeight(weight: Tensor(shape: [5, 4], repeating: 2), bias: nil)
        let meter = FLOPMeter()
        let y = meter.measure { linear(x, w) }
        XCTAssertEqual(meter.multiplyAdds(of: .gemm), 3 * 4 * 5)
        XCTAssertEqual(y.scalars, [Float](repeating: 8, count: 15))
        let counter = FLOPMeter(countOnly: true)
        let z = counter.measure { linear(x, w) }
        XCTAssertEqual(counter.multiplyAdds, meter.multiplyAdds)
        XCTAssertEqual(z.scalars, [Float](repeating: 0, count: 15))
    }
}
