import Foundation
import XCTest
@testable import SafeTensors

/// A raw container: length prefix, the header text verbatim, then `data`.
private func container(header: String, data: [UInt8] = []) -> Data {
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    out.append(contentsOf: data)
    return out
}

private func bytes(ofFloats values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

private func bytes(ofHalves values: [UInt16]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

final class SafeTensorsRoundTripTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func sampleWriter() throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "note": "quote \" backslash \\ newline \n ünïcode"])
        try writer.add("b.weight", shape: [2, 3], scalars: [1, -2, 3.5, .infinity, -0.0, 1e-30])
        try writer.add("a.bias", shape: [3], scalars: [0.25, 0.5, 0.75])
        try writer.add("scalar", shape: [], scalars: [42])
        try writer.add("empty", shape: [0, 4], scalars: [])
        try writer.add("odd \"name\"", shape: [1], scalars: [7])
        return writer
    }

    private func checkSample(_ reader: SafeTensorsReader) throws {
        XCTAssertEqual(reader.metadata, ["format": "pt", "note": "quote \" backslash \\ newline \n ünïcode"])
        XCTAssertEqual(reader.floatTensorNames, ["a.bias", "b.weight", "empty", "odd \"name\"", "scalar"])
        XCTAssertEqual(try reader.entry("b.weight").shape, [2, 3])
        XCTAssertEqual(try reader.entry("b.weight").dtype, .f32)
        XCTAssertEqual(try reader.floats("b.weight").map(\.bitPattern), [1, -2, 3.5, .infinity, -0.0, 1e-30].map { Float($0).bitPattern })
        XCTAssertEqual(try reader.floats("a.bias"), [0.25, 0.5, 0.75])
        XCTAssertEqual(try reader.floats("scalar"), [42])
        XCTAssertEqual(try reader.floats("empty"), [])
        XCTAssertEqual(try reader.floats("odd \"name\""), [7])
    }

    func testFileRoundTrip() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try sampleWriter().write(to: url)
        try checkSample(SafeTensorsReader(contentsOf: url))
    }

    func testInMemoryRoundTrip() throws {
        let data = try sampleWriter().serialized()
        // Header padded so the data section starts 8-byte aligned, as the reference writer does.
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(headerLength % 8, 0)
        try checkSample(SafeTensorsReader(bytes: data))
    }

    func testSerializationIsDeterministic() throws {
        XCTAssertEqual(try sampleWriter().serialized(), try sampleWriter().serialized())
    }

    func testWriterRejectsInconsistentInput() {
        var writer = SafeTensorsWriter()
        XCTAssertThrowsError(try writer.add("w", shape: [2, 2], scalars: [1, 2, 3])) { error in
            XCTAssertTrue("\(error)".contains("'w'"), "\(error)")
        }
        XCTAssertThrowsError(try writer.add("__metadata__", shape: [1], scalars: [1]))
        XCTAssertThrowsError(try writer.add("", shape: [1], scalars: [1]))
    }

    func testWidensHalfAndBFloat16AndSkipsIntegers() throws {
        // f16: 1.0, -2.0, 65504 (max), smallest subnormal 2^-24, +inf. bf16: 1.0, -3.0, 2^-128 (subnormal).
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00]
        let bf: [UInt16] = [0x3F80, 0xC040, 0x0020]
        let ints: [UInt8] = Array(repeating: 0, count: 16)
        let data = bytes(ofHalves: half) + bytes(ofHalves: bf) + ints
        let header = #"{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[10,16]},"# +
            #""position_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[16,32]}}"#
        let reader = try SafeTensorsReader(bytes: container(header: header, data: data), source: "mixed.safetensors")
        XCTAssertEqual(try reader.floats("h"), [1, -2, 65504, 0x1p-24, .infinity])
        XCTAssertEqual(try reader.floats("b"), [1, -3, 0x1p-128])
        XCTAssertEqual(reader.floatTensorNames, ["b", "h"])
        XCTAssertEqual(reader.entries["position_ids"]?.dtype, .i64)
        XCTAssertThrowsError(try reader.floats("position_ids")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unsupportedDType(source: "mixed.safetensors", tensor: "position_ids", dtype: .i64))
        }
    }

    func testEveryHalfBitPatternWidensExactly() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = Widening.halfToFloat[Int(bits)]
            XCTAssertTrue(got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN), "f16 0x\(String(bits, radix: 16))")
        }
    }
}

final class SafeTensorsMalformedInputTests: XCTestCase {
    private func assertRejects(_ data: Data, _ expected: SafeTensorsError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsReader(bytes: data, source: "bad.safetensors"), file: file, line: line) { error in
            XCTAssertEqual(error as? SafeTensorsError, expected, file: file, line: line)
            XCTAssertTrue("\(error)".hasPrefix("bad.safetensors: "), "message must name the source: \(error)", file: file, line: line)
        }
    }

    private func assertRejects(_ data: Data, containing fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsReader(bytes: data, source: "bad.safetensors"), file: file, line: line) { error in
            let message = "\(error)"
            for fragment in fragments + ["bad.safetensors"] {
                XCTAssertTrue(message.contains(fragment), "'\(message)' should mention '\(fragment)'", file: file, line: line)
            }
        }
    }

    private let valid = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    func testTruncatedLengthPrefix() {
        assertRejects(Data(), containing: ["truncated", "length prefix"])
        assertRejects(Data([1, 0, 0]), containing: ["truncated"])
    }

    func testTruncatedHeader() {
        let full = container(header: valid, data: bytes(ofFloats: [1, 2]))
        assertRejects(full.prefix(20), containing: ["truncated", "header"])
    }

    func testTruncatedData() {
        let full = container(header: valid, data: bytes(ofFloats: [1, 2]))
        assertRejects(full.dropLast(3), .offsetsOutOfRange(source: "bad.safetensors", tensor: "w", begin: 0, end: 8, dataSize: 5))
    }

    func testAbsurdHeaderLength() {
        var data = Data()
        withUnsafeBytes(of: UInt64.max.littleEndian) { data.append(contentsOf: $0) }
        assertRejects(data + Data(count: 8), containing: ["header length"])
    }

    func testBadJSON() {
        assertRejects(container(header: #"{"w": {"dtype": "F32", "#), containing: ["not valid JSON"])
        assertRejects(container(header: "[1, 2]"), containing: ["not an object"])
        assertRejects(container(header: #"{"__metadata__": {"k": 1}}"#), containing: ["__metadata__", "'k'"])
    }

    func testMalformedEntries() {
        assertRejects(container(header: #"{"w": 3}"#), containing: ["'w'", "not an object"])
        assertRejects(container(header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), containing: ["'w'", "dtype"])
        assertRejects(container(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), containing: ["'w'", "shape"])
        assertRejects(container(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), containing: ["'w'", "shape"])
        assertRejects(container(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), containing: ["'w'", "data_offsets"])
        assertRejects(container(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: [0, 0, 0, 0]), containing: ["'w'", "data_offsets"])
        assertRejects(container(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
                      containing: ["'w'"])
    }

    func testOffsetsOutOfRange() {
        assertRejects(container(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: bytes(ofFloats: [1, 2])),
                      .offsetsOutOfRange(source: "bad.safetensors", tensor: "w", begin: 4, end: 12, dataSize: 8))
    }

    func testOverlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertRejects(container(header: header, data: bytes(ofFloats: [1, 2, 3])),
                      .overlapping(source: "bad.safetensors", tensor: "b", other: "a"))
    }

    func testShapeDoesNotMatchByteLength() {
        assertRejects(container(header: #"{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#, data: bytes(ofFloats: [1, 2])),
                      .shapeMismatch(source: "bad.safetensors", tensor: "w", shape: [3], dtype: .f16, byteCount: 8))
    }

    func testUnknownAndUnsupportedDTypes() throws {
        assertRejects(container(header: #"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: bytes(ofFloats: [1, 2])),
                      .unknownDType(source: "bad.safetensors", tensor: "w", dtype: "C64"))
        let f64 = container(header: #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: bytes(ofFloats: [1, 2]))
        let reader = try SafeTensorsReader(bytes: f64, source: "bad.safetensors")
        XCTAssertEqual(reader.floatTensorNames, [])
        XCTAssertThrowsError(try reader.floats("w")) { error in
            XCTAssertEqual("\(error)", "bad.safetensors: tensor 'w': dtype F64 is not supported (only F32, F16 and BF16 load as weights)")
        }
    }

    func testMissingTensorAndFile() throws {
        let reader = try SafeTensorsReader(bytes: container(header: valid, data: bytes(ofFloats: [1, 2])), source: "ok.safetensors")
        XCTAssertThrowsError(try reader.floats("nope")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingTensor(source: "ok.safetensors", tensor: "nope"))
        }
        let missing = URL(fileURLWithPath: "/nonexistent/dir/model.safetensors")
        XCTAssertThrowsError(try SafeTensorsReader(contentsOf: missing)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/dir/model.safetensors"), "\(error)")
        }
        XCTAssertThrowsError(try SafeTensorsReader(contentsOf: FileManager.default.temporaryDirectory)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testEmptyAndTruncatedFilesOnDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        XCTAssertThrowsError(try SafeTensorsReader(contentsOf: empty)) { error in
            XCTAssertTrue("\(error)".contains(empty.path) && "\(error)".contains("truncated"), "\(error)")
        }
        let cut = dir.appendingPathComponent("cut.safetensors")
        try container(header: valid, data: bytes(ofFloats: [1, 2])).dropLast(1).write(to: cut)
        XCTAssertThrowsError(try SafeTensorsReader(contentsOf: cut)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .offsetsOutOfRange(source: cut.path, tensor: "w", begin: 0, end: 8, dataSize: 7))
        }
    }
}
