import Foundation

/// A validated safetensors container, from a memory-mapped file or an in-memory buffer.
///
/// Opening parses and checks the whole header (sizes, offsets, overlaps, dtypes), so reads never
/// fail for structural reasons later; reading a tensor widens F32/F16/BF16 to f32. Entries of
/// other dtypes (e.g. the I64 `position_ids` older transformers checkpoints carry) are listed in
/// `entries` but left out of `floatTensorNames`, and reading one throws `unsupportedDType`.
public struct SafeTensorsReader: Sendable {
    /// The file path, or the name given to an in-memory buffer; used in every error.
    public let source: String
    /// The header's `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Every header entry by tensor name, including non-float ones.
    public let entries: [String: TensorEntry]
    private let region: ByteRegion
    private let dataStart: Int

    /// Memory-maps and validates `url`.
    public init(contentsOf url: URL) throws {
        try self.init(region: ByteRegion.map(url), source: url.path)
    }

    /// Validates a safetensors buffer held in memory (e.g. a wire-protocol body); the bytes are copied.
    public init(bytes: Data, source: String = "<in-memory safetensors>") throws {
        let region = bytes.withUnsafeBytes { ByteRegion.owned(copying: $0) }
        try self.init(region: region, source: source)
    }

    private init(region: ByteRegion, source: String) throws {
        let header = try SafeTensorsHeader(parsing: UnsafeRawBufferPointer(start: region.base, count: region.count), source: source)
        self.region = region
        self.source = source
        self.metadata = header.metadata
        self.entries = header.entries
        self.dataStart = header.dataStart
    }

    /// Names of the tensors that load as f32 (dtype F32, F16 or BF16), sorted.
    public var floatTensorNames: [String] {
        entries.values.filter { $0.dtype.isLoadableFloat }.map(\.name).sorted()
    }

    /// The header entry of `name`; throws `missingTensor` if absent.
    public func entry(_ name: String) throws -> TensorEntry {
        guard let e = entries[name] else { throw SafeTensorsError.missingTensor(source: source, tensor: name) }
        return e
    }

    /// Widens tensor `name` into `destination`, whose count must equal the tensor's element count.
    public func read(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let e = try entry(name)
        guard e.dtype.isLoadableFloat else {
            throw SafeTensorsError.unsupportedDType(source: source, tensor: name, dtype: e.dtype)
        }
        precondition(destination.count == e.elementCount,
                     "destination holds \(destination.count) floats, tensor '\(name)' has \(e.elementCount)")
        guard let out = destination.baseAddress, e.elementCount > 0 else { return }
        Widening.widen(e.dtype, from: region.base + dataStart + e.byteRange.lowerBound, count: e.elementCount, into: out)
    }

    /// Tensor `name` widened to f32, row-major.
    public func floats(_ name: String) throws -> [Float] {
        let n = try entry(name).elementCount
        var out = [Float](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { try read(name, into: $0) }
        return out
    }
}
