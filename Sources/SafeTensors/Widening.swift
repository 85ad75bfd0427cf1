/// Conversion of stored elements to the f32 that all compute uses. Checkpoints are often f16 or
/// bf16 on disk; weights are widened once, when a model is built.
enum Widening {
    /// Every f16 bit pattern's f32 value: one table lookup per element is exact and faster than
    /// the software conversion Swift emits without a target CPU that has F16C.
    static let halfToFloat: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }

    /// Widens `count` little-endian elements of `dtype` at `source` (any alignment) into `destination`.
    /// `dtype` must be loadable (`DType.isLoadableFloat`).
    static func widen(_ dtype: DType, from source: UnsafeRawPointer, count: Int,
                      into destination: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
            #if _endian(big)
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: destination[i].bitPattern)) }
            #endif
        case .f16:
            halfToFloat.withUnsafeBufferPointer { table in
                for i in 0..<count {
                    destination[i] = table[Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))]
                }
            }
        case .bf16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        default:
            preconditionFailure("widen called with non-loadable dtype \(dtype)")
        }
    }
}
