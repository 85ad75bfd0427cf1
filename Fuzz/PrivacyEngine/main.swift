import Foundation
import Privacy

/// libFuzzer target: any bytes (as UTF-8) as a prompt through detection and rendering. The
/// engine may refuse with `PrivacyError`; when it answers, the real prompt's rendering is in the
/// set at its index (the prompt itself unless the report names words it rewrote), candidates
/// are distinct, and the closure invariant holds: obfuscating a candidate gives back exactly the
/// same set in the same order (the paper's proof, per input).
///
/// Closure is checked on the real candidate and on 4 others picked by a hash of the input, so a
/// mutated input checks other members of a nearly identical set and, across a campaign, every
/// candidate gets its turn (the unit tests check every candidate of their sets). A check reads the
/// candidate's template back through the public API: `obfuscate(candidate)` returns exactly
/// `candidates(of: template(of: candidate))` (its other outcomes, a refusal for size or for
/// closure, depend on the template only), so an equal template is the same assertion without
/// `obfuscate`'s own pass over every candidate — which made each check cost as much as the input
/// itself (a 600-candidate input took 1.7 s in this sanitized build with two checks). The set
/// that template renders to is then compared once, not per check: equal templates render the
/// same set, so rendering it again per check (as the target did until 2026-12-08) only repeated
/// the comparison, at about a sixth of the target's time.
let obfuscator = Obfuscator()
let closureChecks = 4

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
    guard set.candidates.indices.contains(set.realIndex) else {
        fatalError("real index \(set.realIndex) outside \(set.candidates.count) candidates")
    }
    // The real candidate is the prompt itself, but for the words the report says it rewrote.
    if set.report.normalisedWords.isEmpty, set.report.swappedNames.isEmpty, set.realCandidate != prompt {
        fatalError("real candidate \(set.realCandidate.debugDescription) is not the prompt \(prompt.debugDescription)")
    }
    guard Set(set.candidates).count == set.candidates.count else { fatalError("duplicate candidates for \(prompt.debugDescription)") }
    let n = set.candidates.count
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the input: the same input checks the same candidates
    for byte in UnsafeRawBufferPointer(start: start, count: count) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    let checked = [set.realIndex] + (0..<min(closureChecks, n)).map { Int((hash >> UInt64(8 * $0)) % UInt64(n)) }
    for candidate in checked.map({ set.candidates[$0] }) where obfuscator.template(of: candidate) != set.template {
        fatalError("closure broken: \(candidate.debugDescription) from \(prompt.debugDescription) gives another set")
    }
    guard obfuscator.candidates(of: set.template) == set.candidates else {
        fatalError("the set of \(prompt.debugDescription) renders differently the second time")
    }
    return 0
}
