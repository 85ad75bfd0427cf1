import Diffusion
import Foundation

/// libFuzzer target: any bytes (as UTF-8, invalid sequences replaced) through CLIP's tokenizer
/// with the bundled vocabulary. Every text gives exactly 77 ids, starting with BOS, with EOS
/// present, every id inside the vocabulary; the bounded count the server uses agrees with the
/// full one.
let tokenizer = try! CLIPTokenizer.bundled()
let vocabularySize = tokenizer.vocabulary.count

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let ids = tokenizer.encode(text)
    guard ids.count == CLIPTokenizer.contextLength, ids.first == 49406, ids.contains(49407) else {
        fatalError("encode gave \(ids.count) ids starting \(ids.prefix(3))")
    }
    guard ids.allSatisfy({ (0..<vocabularySize).contains($0) }) else { fatalError("id outside the vocabulary") }
    let tokens = tokenizer.tokens(text)
    guard tokens.allSatisfy({ (0..<vocabularySize).contains($0) }) else { fatalError("token outside the vocabulary") }
    // The server's bounded count: exact up to its limit, a lower bound above the limit past it.
    for limit in [0, 75] {
        let counted = tokenizer.tokenCount(text, stoppingAbove: limit)
        guard tokens.count <= limit ? counted == tokens.count : (counted > limit && counted <= tokens.count) else {
            fatalError("tokenCount(stoppingAbove: \(limit)) gave \(counted) for \(tokens.count) tokens")
        }
    }
    return 0
}
