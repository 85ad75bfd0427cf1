import Foundation
import Privacy

/// libFuzzer target: any bytes (as UTF-8) as a prompt through detection and rendering. The
/// engine may refuse with `PrivacyError`; when it answers, the real prompt's rendering is in the
/// set at its index, candidates are distinct, and the closure invariant holds: obfuscating a
/// candidate gives back exactly the same set in the same order (the paper's proof, per input).
///
/// Closure is checked on the real candidate and on `closureChecks` others picked by a hash of the
/// input, so a mutated input checks other members of a nearly identical set: across a campaign
/// every candidate gets its turn, while one input costs at most six obfuscations. Checking every
/// candidate of sets up to 32 (until 2026-12-07) held the campaign to 3–4 inputs per second on a
/// loaded core (each check is a full obfuscation, of up to hundreds of candidates), which put a
/// million executions days away; the unit tests check closure on every candidate of their sets.
/// Sets larger than a server accepts by default (32) get one hashed check besides the real one:
/// the fuzzer favours them for their coverage, and at hundreds of candidates each check costs a
/// second of the sanitized build (a 600-candidate input took 1.6 CPU-s with four).
let obfuscator = Obfuscator()
func closureChecks(candidates n: Int) -> Int { n <= 32 ? 4 : 1 }

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
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the input: the same input checks the same candidates
    for byte in UnsafeRawBufferPointer(start: start, count: count) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    let checked = [set.realIndex] + (0..<min(closureChecks(candidates: n), n)).map { Int((hash >> UInt64(8 * $0)) % UInt64(n)) }
    for candidate in checked.map({ set.candidates[$0] }) {
        guard let again = try? obfuscator.obfuscate(candidate), again.candidates == set.candidates else {
            fatalError("closure broken: \(candidate.debugDescription) from \(prompt.debugDescription) gives another set")
        }
    }
    return 0
}
