import Foundation
@testable import Privacy

/// The committed test prompts (Data/prompts.txt, made by tools/make_privacy_prompts.py).
enum TestPrompts {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Data/prompts.txt")
    /// Prompts that mention people by first name (Data/name-prompts.txt, made by tools/make_name_prompts.py).
    static let nameURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Data/name-prompts.txt")

    static func load(_ file: URL = url) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
    }
}

/// A small seeded generator (SplitMix64) for property tests: same seed, same prompts.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
