import Foundation
import SafeTensors
import XCTest

/// Reads a file written by the reference `safetensors` library (tools/fixtures_clip.py).
final class SafeTensorsInteropTests: XCTestCase {
    struct Expected: Decodable {
        struct Entry: Decodable { let shape: [Int]; let values: [Float] }
        let metadata: [String: String]
        let tensors: [String: Entry]
    }

    func testReadsReferenceLibraryOutput() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.url("clip/interop.json")))
        let reader = try SafeTensorsReader(contentsOf: Fixtures.url("clip/interop.safetensors"))
        XCTAssertEqual(reader.metadata, expected.metadata)
        XCTAssertEqual(reader.floatTensorNames, expected.tensors.keys.sorted(), "the I64 'steps' entry is skipped")
        XCTAssertEqual(reader.entries["steps"]?.dtype, .i64)
        XCTAssertEqual(Set(reader.entries.values.map(\.dtype)), [.f32, .f16, .bf16, .i64])
        for (name, entry) in expected.tensors {
            XCTAssertEqual(try reader.entry(name).shape, entry.shape, name)
            XCTAssertEqual(try reader.floats(name), entry.values, name)
        }
    }

    func testWriterOutputMatchesReferenceLayout() throws {
        // Re-serialising the f32 contents must give a file the reader (and Python) accept with equal values.
        let reader = try SafeTensorsReader(contentsOf: Fixtures.url("clip/interop.safetensors"))
        var writer = SafeTensorsWriter(metadata: reader.metadata)
        for name in reader.floatTensorNames { try writer.add(name, shape: reader.entry(name).shape, scalars: reader.floats(name)) }
        let again = try SafeTensorsReader(bytes: writer.serialized())
        XCTAssertEqual(again.metadata, reader.metadata)
        for name in reader.floatTensorNames { XCTAssertEqual(try again.floats(name), try reader.floats(name), name) }
    }
}
