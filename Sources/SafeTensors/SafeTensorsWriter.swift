import Foundation

/// Builds a safetensors container of named f32 tensors plus an optional `__metadata__` map,
/// as a file or as in-memory bytes (wire-protocol bodies use the same format).
///
/// Output follows the reference implementation: tensors sorted by name and laid out
/// contiguously in that order, the JSON header padded with spaces to a multiple of 8 bytes so
/// the data section is aligned.
public struct SafeTensorsWriter: Sendable {
    private var tensors: [String: (shape: [Int], scalars: [Float])] = [:]
    /// Free-form string metadata stored under `__metadata__`.
    public var metadata: [String: String]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds (or replaces) a tensor. Throws if the element count does not match `shape` or the
    /// name is reserved/empty.
    public mutating func add(_ name: String, shape: [Int], scalars: [Float]) throws {
        guard !name.isEmpty, name != "__metadata__" else {
            throw SafeTensorsError.invalidTensor(tensor: name, detail: "name is empty or reserved")
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw SafeTensorsError.invalidTensor(tensor: name, detail: "shape \(shape) does not hold \(scalars.count) values")
        }
        tensors[name] = (shape, scalars)
    }

    /// The complete container.
    public func serialized() -> Data {
        let names = tensors.keys.sorted()
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let end = offset + 4 * t.scalars.count
            parts.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for name in names {
            tensors[name]!.scalars.withUnsafeBufferPointer { buffer in
                #if _endian(big)
                for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                #else
                out.append(UnsafeBufferPointer(start: buffer.baseAddress, count: buffer.count))
                #endif
            }
        }
        return out
    }

    /// Writes the container to `url` atomically.
    public func write(to url: URL) throws {
        try serialized().write(to: url, options: .atomic)
    }

    /// JSON string literal with the escapes RFC 8259 requires.
    private func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
