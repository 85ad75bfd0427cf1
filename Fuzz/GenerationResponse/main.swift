import Foundation
import WireProtocol

/// libFuzzer target: any bytes as a server's 200 body, through the device's decoder and
/// validation against a fixed request (what a hostile server can send). Refusal must be a
/// `ResponseError`; a response that passes has exactly the request's shapes and finite values,
/// and survives encode/decode unchanged.
let request = GenerationRequest(candidates: ["a photo of a man", "a photo of a woman"], seed: 1, steps: 4, switchStep: 2,
                                scheduler: "dpm++2m", width: 64, height: 64)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let response: GenerationResponse
    do {
        response = try ResponseCodec.decode(data)
        try response.validate(for: request)
    } catch is ResponseError {
        return 0
    } catch {
        fatalError("decode/validate threw \(type(of: error)), not ResponseError: \(error)")
    }
    guard response.latents.shape == [2, 4, 8, 8], response.latents.scalars.allSatisfy(\.isFinite) else {
        fatalError("validation passed a response of shape \(response.latents.shape)")
    }
    guard let again = try? ResponseCodec.decode(try! ResponseCodec.encode(response)), again == response else {
        fatalError("a valid response does not survive encode/decode")
    }
    _ = response.extract(candidate: 1)
    return 0
}
