import Diffusion
import Foundation

/// libFuzzer target: any bytes (as UTF-8, invalid sequences replaced) through CLIP's tokenizer
/// with the bundled vocabulary. Every text gives exactly 77 ids, starting with BOS, with EOS
/// present, every id inside the vocabulary.
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
    return 0
}
