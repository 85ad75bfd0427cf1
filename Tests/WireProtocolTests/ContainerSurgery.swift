import Foundation
import SafeTensors
import WireProtocol

/// Rebuilds an encoded response with one part removed or replaced, to check that decoding
/// names exactly that part.
enum SafeTensorsWriterProxy {
    static func container(dropping tensor: String? = nil, droppingMetadata key: String? = nil,
                          replacing replaced: String? = nil, with values: [Float] = [], from response: GenerationResponse) -> Data {
        let reader = try! SafeTensorsReader(bytes: try! ResponseCodec.encode(response))
        var metadata = reader.metadata
        if let key { metadata.removeValue(forKey: key) }
        var writer = SafeTensorsWriter(metadata: metadata)
        for name in reader.floatTensorNames where name != tensor {
            if name == replaced {
                try! writer.add(name, shape: [values.count], scalars: values)
            } else {
                try! writer.add(name, shape: reader.entries[name]!.shape, scalars: try! reader.floats(name))
            }
        }
        return writer.serialized()
    }
}
