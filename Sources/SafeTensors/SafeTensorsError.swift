/// Why a `.safetensors` file or buffer could not be read or written. Every case names the source
/// (a file path, or the name given to an in-memory buffer) and, where there is one, the tensor,
/// so a user can tell which download is broken and where.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case unreadable(source: String, reason: String)
    /// Fewer bytes than the format's fixed parts need (the 8-byte length prefix or the header).
    case truncated(source: String, detail: String)
    /// The JSON header is not valid JSON or not a safetensors header.
    case invalidHeader(source: String, detail: String)
    /// One tensor's header entry is malformed (missing field, wrong type, negative size, …).
    case invalidEntry(source: String, tensor: String, detail: String)
    /// The header names a dtype this reader does not know at all.
    case unknownDType(source: String, tensor: String, dtype: String)
    /// The tensor's dtype is known but cannot be widened to f32 (e.g. F64, F8, integers).
    case unsupportedDType(source: String, tensor: String, dtype: DType)
    /// `shape × dtype size` differs from the byte length given by `data_offsets`.
    case shapeMismatch(source: String, tensor: String, shape: [Int], dtype: DType, byteCount: Int)
    /// `data_offsets` point outside the data section.
    case offsetsOutOfRange(source: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors' byte ranges overlap.
    case overlapping(source: String, tensor: String, other: String)
    /// The requested tensor is not in the file.
    case missingTensor(source: String, tensor: String)
    /// The writer was given inconsistent input.
    case invalidTensor(tensor: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(source, reason):
            "\(source): cannot read safetensors file: \(reason)"
        case let .truncated(source, detail):
            "\(source): truncated safetensors file: \(detail)"
        case let .invalidHeader(source, detail):
            "\(source): invalid safetensors header: \(detail)"
        case let .invalidEntry(source, tensor, detail):
            "\(source): tensor '\(tensor)': invalid header entry: \(detail)"
        case let .unknownDType(source, tensor, dtype):
            "\(source): tensor '\(tensor)': unknown dtype '\(dtype)'"
        case let .unsupportedDType(source, tensor, dtype):
            "\(source): tensor '\(tensor)': dtype \(dtype.rawValue) is not supported (only F32, F16 and BF16 load as weights)"
        case let .shapeMismatch(source, tensor, shape, dtype, byteCount):
            "\(source): tensor '\(tensor)': shape \(shape) of \(dtype.rawValue) needs "
                + "\(shape.reduce(1, *) * dtype.size) bytes but data_offsets span \(byteCount)"
        case let .offsetsOutOfRange(source, tensor, begin, end, dataSize):
            "\(source): tensor '\(tensor)': data_offsets [\(begin), \(end)] exceed the \(dataSize)-byte data section (file truncated?)"
        case let .overlapping(source, tensor, other):
            "\(source): tensor '\(tensor)': data overlaps tensor '\(other)'"
        case let .missingTensor(source, tensor):
            "\(source): no tensor named '\(tensor)'"
        case let .invalidTensor(tensor, detail):
            "cannot write tensor '\(tensor)': \(detail)"
        }
    }
}

#if canImport(Foundation)
import Foundation

extension SafeTensorsError: LocalizedError {
    public var errorDescription: String? { description }
}
#endif
