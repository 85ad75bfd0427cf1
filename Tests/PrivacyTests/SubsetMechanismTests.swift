import XCTest
@testable import Privacy

final class SubsetMechanismTests: XCTestCase {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testSHA256AndHMACKnownAnswers() {
        XCTAssertEqual(hex(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // RFC 4231 test cases 1 and 6 (a key longer than the block).
        XCTAssertEqual(hex(HMACSHA256.authenticate(Array("Hi There".utf8), key: [UInt8](repeating: 0x0b, count: 20))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(hex(HMACSHA256.authenticate(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                                                   key: [UInt8](repeating: 0xaa, count: 131))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testInclusionProbabilityMatchesTheFormulaTable() {
        // PRIVACY.md §3.4: N=12, M=4, ε=2 → p_incl 0.79 and max posterior 0.20.
        XCTAssertEqual(SubsetMechanism.inclusionProbability(candidates: 12, subset: 4, epsilon: 2), 0.787, accuracy: 0.001)
        XCTAssertEqual(SubsetMechanism.inclusionProbability(candidates: 6, subset: 2, epsilon: 1), 0.576, accuracy: 0.001)
    }

    /// The sampler realises P(S|v) ∝ e^ε for subsets containing v and 1 otherwise: check the
    /// inclusion rate and that every other index is drawn equally often (seeded, so exact).
    func testSamplerFrequencies() throws {
        let mechanism = try SubsetMechanism(epsilon: 2, subsetSize: 4)
        var generator = SeededGenerator(seed: 11)
        let n = 12, real = 5, draws = 20000
        var included = 0
        var counts = [Int](repeating: 0, count: n)
        for _ in 0..<draws {
            let subset = mechanism.draw(n: n, real: real, using: &generator)
            XCTAssertEqual(Set(subset).count, 4)
            if subset.contains(real) { included += 1 }
            for index in subset { counts[index] += 1 }
        }
        let p = SubsetMechanism.inclusionProbability(candidates: n, subset: 4, epsilon: 2)
        XCTAssertEqual(Double(included) / Double(draws), p, accuracy: 0.015)
        // Each non-real index: expected (p·3 + (1−p)·4)/11 per draw.
        let expected = (p * 3 + (1 - p) * 4) / 11 * Double(draws)
        for index in 0..<n where index != real { XCTAssertEqual(Double(counts[index]), expected, accuracy: expected * 0.06) }
    }

    func testMemoisedSubsetsRepeatAndSystemSubsetsAreValid() throws {
        let set = try Obfuscator().obfuscate("an old Indian woman")
        let mechanism = try SubsetMechanism(epsilon: 2, subsetSize: 6)
        let secret = Array("0123456789abcdef-user-secret".utf8)
        let first = try mechanism.select(from: set, randomness: .memoized(secret: secret))
        // Same values, different wording: same subset.
        let reworded = try Obfuscator().obfuscate("an elderly Indian woman")
        XCTAssertEqual(try mechanism.select(from: reworded, randomness: .memoized(secret: secret)).candidateIndices, first.candidateIndices)
        for _ in 0..<5 { XCTAssertEqual(try mechanism.select(from: set, randomness: .memoized(secret: secret)), first) }
        XCTAssertEqual(first.candidates, first.candidateIndices.map { set.candidates[$0] })
        XCTAssertEqual(first.candidateIndices, first.candidateIndices.sorted(), "canonical order")
        XCTAssertTrue(first.memoized)
        // Different secrets give different subsets for at least one of a few users.
        let others = try (0..<8).map { try mechanism.select(from: set, randomness: .memoized(secret: Array("another-secret-\($0)-padding".utf8))).candidateIndices }
        XCTAssertTrue(others.contains { $0 != first.candidateIndices })
        let fresh = try mechanism.select(from: set, randomness: .system)
        XCTAssertEqual(fresh.candidates.count, 6)
        XCTAssertFalse(fresh.memoized)
        if let realIndex = fresh.realIndex { XCTAssertEqual(fresh.candidates[realIndex], set.realCandidate) }
        XCTAssertEqual(fresh.maxPosteriorUniformPrior, exp(2) / (6 * exp(2) + 30 - 6), accuracy: 1e-12)
        let prior = set.report.maxPosterior
        XCTAssertEqual(fresh.maxPosteriorBound, exp(2) * prior / (exp(2) * prior + 1 - prior), accuracy: 1e-12)
    }

    func testBadParametersAreRejected() throws {
        XCTAssertThrowsError(try SubsetMechanism(epsilon: 0, subsetSize: 2))
        XCTAssertThrowsError(try SubsetMechanism(epsilon: .infinity, subsetSize: 2))
        XCTAssertThrowsError(try SubsetMechanism(epsilon: 1, subsetSize: 0))
        let mechanism = try SubsetMechanism(epsilon: 1, subsetSize: 6)
        XCTAssertThrowsError(try mechanism.select(from: try Obfuscator().obfuscate("a young woman"), randomness: .system))
        XCTAssertThrowsError(try mechanism.select(from: try Obfuscator().obfuscate("a red car"), randomness: .system))
        let short = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-secret-\(UUID().uuidString)")
        try Data("short".utf8).write(to: short)
        defer { try? FileManager.default.removeItem(at: short) }
        XCTAssertThrowsError(try SubsetMechanism.readSecret(from: short)) { XCTAssertTrue("\($0)".contains(short.path)) }
    }
}
