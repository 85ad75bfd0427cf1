/// The 32-bit Mersenne Twister (MT19937) exactly as PyTorch's CPU generator runs it
/// (`at::mt19937`): seeded with the low 32 bits of the seed, refilling its 624-word state lazily
/// when the next word is requested.
///
/// Kept as plain values (state words, read position, words left) so that a generator can be
/// serialised mid-stream and resumed on another machine.
public struct MersenneTwister: Equatable, Sendable {
    public static let stateSize = 624
    static let shift = 397
    static let matrixA: UInt32 = 0x9908_b0df

    /// The seed given at construction (PyTorch keeps all 64 bits but uses the low 32).
    public internal(set) var seed: UInt64
    /// The 624 state words.
    public internal(set) var words: [UInt32]
    /// Index of the next state word to temper and return.
    public internal(set) var next: Int
    /// Words left before the state is regenerated (PyTorch's `left_`; 1 right after seeding).
    public internal(set) var left: Int

    /// Seeds like `torch.Generator().manual_seed(seed)`.
    public init(seed: UInt64) {
        self.seed = seed
        var words = [UInt32](repeating: 0, count: Self.stateSize)
        words[0] = UInt32(truncatingIfNeeded: seed)
        for j in 1..<Self.stateSize {
            words[j] = 1_812_433_253 &* (words[j - 1] ^ (words[j - 1] >> 30)) &+ UInt32(j)
        }
        self.words = words
        self.next = 0
        self.left = 1
    }

    /// Restores a state captured from `seed`/`words`/`next`/`left`; `nil` when it is not one a
    /// running generator can be in.
    public init?(seed: UInt64, words: [UInt32], next: Int, left: Int) {
        // Right after seeding next = 0, left = 1; from then on next + left = 625 (see nextUInt32).
        guard words.count == Self.stateSize, (1...Self.stateSize).contains(left),
              (next == 0 && left == 1) || next + left == Self.stateSize + 1 else { return nil }
        self.seed = seed
        self.words = words
        self.next = next
        self.left = left
    }

    /// The next tempered 32-bit output.
    public mutating func nextUInt32() -> UInt32 {
        left -= 1
        if left == 0 { regenerate() }
        var y = words[next]
        next += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// Two outputs combined high word first, like `CPUGeneratorImpl::random64`.
    public mutating func nextUInt64() -> UInt64 {
        let high = UInt64(nextUInt32())
        let low = UInt64(nextUInt32())
        return high << 32 | low
    }

    private mutating func regenerate() {
        let n = Self.stateSize, m = Self.shift
        words.withUnsafeMutableBufferPointer { s in
            func twist(_ u: UInt32, _ v: UInt32) -> UInt32 {
                ((u & 0x8000_0000) | (v & 0x7fff_ffff)) >> 1 ^ (v & 1 == 1 ? Self.matrixA : 0)
            }
            for k in 0..<(n - m) { s[k] = s[k + m] ^ twist(s[k], s[k + 1]) }
            for k in (n - m)..<(n - 1) { s[k] = s[k + m - n] ^ twist(s[k], s[k + 1]) }
            s[n - 1] = s[m - 1] ^ twist(s[n - 1], s[0])
        }
        left = n
        next = 0
    }
}
