import Foundation
import Privacy

/// libFuzzer target: any bytes (as UTF-8) as a prompt through detection and rendering. The
/// engine may refuse with `PrivacyError`; when it answers, the real prompt's rendering is in the
/// set at its index, candidates are distinct, and the closure invariant holds: obfuscating a
/// candidate gives back exactly the same set in the same order (the paper's proof, per input).
///
/// Closure is checked on every candidate of sets up to `closureChecks` (32, the most a server
/// accepts by default) and on the real one plus an even spread of the others beyond: each check
/// is a full obfuscation, so checking all 432 candidates of a four-person prompt took over a
/// minute per input and held the campaign to ~10 inputs per second.
let obfuscator = Obfuscator()
let closureChecks = 32

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
    let n = set.candidates.count
    let checked = n <= closureChecks ? Array(0..<n) : [set.realIndex] + (0..<(closureChecks - 1)).map { $0 * n / (closureChecks - 1) }
    for candidate in checked.map({ set.candidates[$0] }) {
        guard let again = try? obfuscator.obfuscate(candidate), again.candidates == set.candidates else {
            fatalError("closure broken: \(candidate.debugDescription) from \(prompt.debugDescription) gives another set")
        }
    }
    return 0
}
