/// A deterministic random stream keyed by HMAC-SHA256 of a user secret and a label (counter
/// mode: block i = HMAC(key, i)). The DP subset mode draws from it so that the same user, the
/// same attribute types and the same values always give the same subset — RAPPOR's permanent
/// randomised response — and repeated prompts cannot be intersected.
public struct MemoizedRandomness: RandomNumberGenerator {
    private let key: [UInt8]
    private var counter: UInt64 = 0
    private var buffer: [UInt8] = []

    /// `secret` is the user's long-term secret; `label` names what is being memoised.
    public init(secret: [UInt8], label: String) {
        key = HMACSHA256.authenticate(Array(label.utf8), key: secret)
    }

    public mutating func next() -> UInt64 {
        if buffer.count < 8 {
            var block = [UInt8](repeating: 0, count: 8)
            for i in 0..<8 { block[i] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * i)) }
            counter += 1
            buffer += HMACSHA256.authenticate(block, key: key)
        }
        let value = buffer.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        buffer.removeFirst(8)
        return value
    }
}

extension RandomNumberGenerator {
    /// A uniform integer in 0..<bound by rejection sampling. Spelled out (rather than
    /// `Int.random(in:using:)`) so memoised subsets stay the same across Swift versions.
    mutating func uniform(below bound: Int) -> Int {
        precondition(bound > 0, "empty range")
        let limit = UInt64.max - UInt64.max % UInt64(bound)
        while true {
            let draw = next()
            if draw < limit { return Int(draw % UInt64(bound)) }
        }
    }

    /// A uniform real in [0, 1) with 53 random bits.
    mutating func unitInterval() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
