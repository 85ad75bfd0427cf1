import Foundation
import XCTest

/// Locates the committed reference fixtures made by the scripts in `tools/`.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}

/// Asserts `max |a − b| ≤ tolerance · max |b|` (the parity criterion), reporting the worst index.
func assertClose(_ a: [Float], _ b: [Float], relativeTo tolerance: Float,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "length mismatch \(message)", file: file, line: line)
    guard a.count == b.count, !b.isEmpty else { return }
    let scale = b.map { abs($0) }.max()!
    var worst: Float = 0, at = 0
    for i in a.indices where !(abs(a[i] - b[i]) <= worst) { worst = abs(a[i] - b[i]); at = i }
    XCTAssertLessThanOrEqual(worst, tolerance * max(scale, .leastNormalMagnitude),
        "max abs error \(worst) at \(at) (got \(a[at]), want \(b[at])), max |ref| \(scale) \(message)",
        file: file, line: line)
}
