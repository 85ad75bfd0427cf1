import Foundation

/// Where one tensor lives in a safetensors data section, as declared by the header.
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// The parsed and validated JSON header of a safetensors file.
///
/// Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name
/// to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `"__metadata__"`
/// string→string map), then the data section. Validation happens here, once, so that every later
/// read is a plain memory copy that cannot go out of bounds.
struct SafeTensorsHeader {
    /// Headers above this size are refused rather than parsed (the reference implementation's limit).
    static let maximumHeaderSize = 100_000_000

    let entries: [String: TensorEntry]
    let metadata: [String: String]
    /// Offset of the data section from the start of the buffer.
    let dataStart: Int

    init(parsing bytes: UnsafeRawBufferPointer, source: String) throws {
        guard bytes.count >= 8 else {
            throw SafeTensorsError.truncated(source: source, detail: "\(bytes.count) bytes, the 8-byte header length prefix is incomplete")
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(Self.maximumHeaderSize) else {
            throw SafeTensorsError.invalidHeader(source: source, detail: "declared header length \(declared) exceeds the \(Self.maximumHeaderSize)-byte limit (not a safetensors file?)")
        }
        let headerSize = Int(declared)
        guard bytes.count >= 8 + headerSize else {
            throw SafeTensorsError.truncated(source: source, detail: "header needs \(headerSize) bytes after the length prefix but only \(bytes.count - 8) remain")
        }
        dataStart = 8 + headerSize
        let dataSize = bytes.count - dataStart
        let json = Data(bytes: bytes.baseAddress! + 8, count: headerSize)

        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw SafeTensorsError.invalidHeader(source: source, detail: "header is not valid JSON (\(error.localizedDescription))")
        }
        guard let object = root as? [String: Any] else {
            throw SafeTensorsError.invalidHeader(source: source, detail: "header JSON is not an object")
        }

        var metadata: [String: String] = [:]
        var entries: [String: TensorEntry] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw SafeTensorsError.invalidHeader(source: source, detail: "__metadata__ is not an object")
                }
                for (k, v) in map {
                    guard let s = v as? String else {
                        throw SafeTensorsError.invalidHeader(source: source, detail: "__metadata__ value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            entries[name] = try Self.entry(name: name, value: value, source: source, dataSize: dataSize)
        }
        try Self.checkNoOverlap(entries.values, source: source)
        self.entries = entries
        self.metadata = metadata
    }

    private static func entry(name: String, value: Any, source: String, dataSize: Int) throws -> TensorEntry {
        func bad(_ detail: String) -> SafeTensorsError { .invalidEntry(source: source, tensor: name, detail: detail) }
        guard let fields = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dtypeName = fields["dtype"] as? String else { throw bad("missing or non-string 'dtype'") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafeTensorsError.unknownDType(source: source, tensor: name, dtype: dtypeName)
        }
        guard let rawShape = fields["shape"] as? [Any] else { throw bad("missing or non-array 'shape'") }
        var shape: [Int] = []
        for dim in rawShape {
            guard let d = integer(dim), d >= 0 else { throw bad("shape \(rawShape) has a dimension that is not a non-negative integer") }
            shape.append(d)
        }
        guard let rawOffsets = fields["data_offsets"] as? [Any], rawOffsets.count == 2,
              let begin = integer(rawOffsets[0]), let end = integer(rawOffsets[1]) else {
            throw bad("'data_offsets' must be an array of two integers")
        }
        guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not an ordered pair of non-negative offsets") }
        guard end <= dataSize else {
            throw SafeTensorsError.offsetsOutOfRange(source: source, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shape) has too many elements") }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, bytes == end - begin else {
            throw SafeTensorsError.shapeMismatch(source: source, tensor: name, shape: shape, dtype: dtype, byteCount: end - begin)
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// JSON integers only: booleans and fractional numbers are rejected.
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        switch String(cString: number.objCType) {
        case "c", "C", "B", "f", "d": return nil
        default: return number.intValue
        }
    }

    private static func checkNoOverlap(_ entries: Dictionary<String, TensorEntry>.Values, source: String) throws {
        let sorted = entries.filter { !$0.byteRange.isEmpty }.sorted {
            ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name)
        }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw SafeTensorsError.overlapping(source: source, tensor: next.name, other: previous.name)
        }
    }
}
