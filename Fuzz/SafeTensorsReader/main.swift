import Foundation
import SafeTensors

/// libFuzzer target: any bytes as a safetensors container. The reader must accept or throw a
/// `SafeTensorsError` (never trap, never read outside the buffer), and every entry it accepts
/// must be readable as floats (F32/F16/BF16) with exactly its element count.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let reader = try? SafeTensorsReader(bytes: data, source: "fuzz") else { return 0 }
    for name in reader.floatTensorNames {
        let entry = reader.entries[name]!
        guard entry.byteRange.lowerBound >= 0, entry.byteRange.upperBound <= count else {
            fatalError("entry \(name) range \(entry.byteRange) outside a \(count)-byte input")
        }
        guard let values = try? reader.floats(name) else { continue }
        guard values.count == entry.elementCount else { fatalError("\(name): \(values.count) values for shape \(entry.shape)") }
    }
    return 0
}
