import TensorCore

/// Deterministic synthetic weights for benchmarking real architectures without checkpoint files.
///
/// Each value is a pure function of (seed, key, element index) — a counter-based generator —
/// so tensors can be filled in parallel and any one key always yields the same tensor no matter
/// which other keys were requested before it.
enum RandomWeights {
    /// Biases are zero and 1-D weights (norm scales) one, as freshly initialised layers are;
    /// matrices and kernels are N(0, 1/fan_in), fan_in = product of all but the first dimension,
    /// so a layer maps O(1) activations to O(1) activations.
    static func tensor(seed: UInt64, key: String, shape: [Int]) -> Tensor {
        let out = Tensor(zeros: shape)
        if key.hasSuffix(".bias") { return out }
        if shape.count <= 1 {
            out.pointer.update(repeating: 1, count: out.count)
            return out
        }
        let fanIn = shape.dropFirst().reduce(1, *)
        let std = 1 / Float(Swift.max(fanIn, 1)).squareRoot()
        let stream = splitMix(seed ^ fnv1a(key))
        let pairs = (out.count + 1) / 2
        Parallel.forChunks(pairs, minimumChunk: 1 << 15) { range in
            for p in range {
                let (a, b) = gaussianPair(stream: stream, index: UInt64(p))
                out.pointer[2 * p] = a * std
                if 2 * p + 1 < out.count { out.pointer[2 * p + 1] = b * std }
            }
        }
        return out
    }

    /// Two independent standard normals (Box–Muller) from the `index`-th pair of `stream`.
    private static func gaussianPair(stream: UInt64, index: UInt64) -> (Float, Float) {
        let r1 = splitMix(stream &+ 2 &* index &* 0x9E37_79B9_7F4A_7C15)
        let r2 = splitMix(stream &+ (2 &* index &+ 1) &* 0x9E37_79B9_7F4A_7C15)
        // Uniforms in (0, 1]: 24 random bits, shifted off zero so the log is finite.
        let u1 = (Float(r1 >> 40) + 1) * 0x1p-24
        let u2 = Float(r2 >> 40) * 0x1p-24
        let radius = (-2 * logf(u1)).squareRoot()
        let angle = 2 * Float.pi * u2
        return (radius * cosf(angle), radius * sinf(angle))
    }

    private static func splitMix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in s.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
