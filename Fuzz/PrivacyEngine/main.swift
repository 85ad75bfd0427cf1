import Foundation
import Privacy

/// libFuzzer target: any bytes (as UTF-8) as a prompt through detection and rendering. The
/// engine may refuse with `PrivacyError`; when it answers, the real prompt's rendering is in the
/// set at its index, candidates are distinct, and the closure invariant holds: obfuscating any
/// candidate gives back exactly the same set in the same order (the paper's proof, per input).
let obfuscator = Obfuscator()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let prompt = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let set: CandidateSet
    do {
        set = try obfuscator.obfuscate(prompt)
    } catch is PrivacyError {
        return 0
    } catch {
        fatalError("obfuscate threw \(type(of: error)), not PrivacyError: \(error)")
    }
    guard set.candidates.indices.contains(set.realIndex), set.candidates[set.realIndex] == set.prompt || set.realCandidate == set.candidates[set.realIndex] else {
        fatalError("real index \(set.realIndex) outside \(set.candidates.count) candidates")
    }
    guard Set(set.candidates).count == set.candidates.count else { fatalError("duplicate candidates for \(prompt.debugDescription)") }
    for candidate in set.candidates {
        guard let again = try? obfuscator.obfuscate(candidate), again.candidates == set.candidates else {
            fatalError("closure broken: \(candidate.debugDescription) from \(prompt.debugDescription) gives another set")
        }
    }
    return 0
}
