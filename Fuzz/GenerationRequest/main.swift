import Foundation
import WireProtocol

/// libFuzzer target: any bytes as the JSON body of POST /v1/generate, through the server's
/// decoder and validation. Either is allowed to refuse (with `RequestError`); a request that
/// passes must survive an encode/decode round trip unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let request: GenerationRequest
    do {
        request = try GenerationRequest.decode(json: data)
        try request.validate(against: ServerLimits(), knownSchedulers: ["dpm++2m", "ddim", "pndm", "euler", "euler-a", "lcm"],
                             countTokens: { $0.split(separator: " ").count + 2 })
    } catch is RequestError {
        return 0
    } catch {
        fatalError("decode/validate threw \(type(of: error)), not RequestError: \(error)")
    }
    guard let again = try? GenerationRequest.decode(json: try! request.encodedJSON()), again == request else {
        fatalError("a valid request does not survive encode/decode")
    }
    return 0
}
