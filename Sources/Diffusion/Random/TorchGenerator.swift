import Foundation
import TensorCore

/// A random generator that reproduces `torch.Generator()` on the CPU bit for bit, so that
/// `--seed S` gives the same initial latents as diffusers with
/// `generator=torch.Generator().manual_seed(S)`.
///
/// `randn` follows PyTorch's CPU `normal_` kernel: tensors of 16 or more elements are filled with
/// 24-bit uniforms and transformed sixteen at a time by Box–Muller (first eight from cos, last
/// eight from sin; a size that is not a multiple of 16 redraws 16 fresh uniforms for the last 16
/// outputs). Smaller tensors draw one double-precision normal per element and keep the spare
/// sine sample for the next small draw. The whole state — Mersenne Twister words, position and
/// that cached sample — is a value, and `encoded()` / `init(encoded:)` carry it to another
/// machine so that generation continues exactly.
public struct TorchGenerator: Equatable, Sendable {
    /// Which of PyTorch's CPU builds of the 16-wide Box–Muller fill to reproduce. PyTorch's output
    /// depends on the CPU it runs on: AVX2 machines use Cephes-style vector `log`/`sincos`;
    /// AVX-512 machines (and `ATEN_CPU_CAPABILITY=default`) use the C library's `logf`/`cosf`/`sinf`.
    public enum NormalFill: UInt8, Sendable, CaseIterable {
        /// `torch.randn` on AVX2 CPUs (PyTorch's `CPU_CAPABILITY_AVX2` kernel).
        case avx2 = 0
        /// `torch.randn` on other CPUs (the scalar `NormalFill16` with libm).
        case generic = 1
    }

    /// The Mersenne Twister behind every draw.
    public var engine: MersenneTwister
    /// PyTorch's `next_double_normal_sample`: the spare Box–Muller sample of the small-tensor path.
    public var cachedNormal: Double?
    /// The 16-wide fill this generator reproduces.
    public var normalFill: NormalFill

    /// Seeds like `torch.Generator().manual_seed(seed)` (negative Python seeds wrap to UInt64).
    public init(seed: UInt64, normalFill: NormalFill = .avx2) {
        engine = MersenneTwister(seed: seed)
        cachedNormal = nil
        self.normalFill = normalFill
    }

    /// Standard normal samples in row-major order of `shape`, as `torch.randn(shape, generator: g)`.
    public mutating func randn(_ shape: [Int]) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        return Tensor(shape: shape, scalars: normalScalars(count: shape.reduce(1, *)))
    }

    /// `count` standard normal samples, as `torch.randn(count, generator: g)`.
    public mutating func normalScalars(count: Int) -> [Float] {
        guard count >= 16 else { return (0..<count).map { _ in Float(nextDoubleNormal()) } }
        var data = (0..<count).map { _ in nextUniformFloat() }
        data.withUnsafeMutableBufferPointer { buffer in
            var start = 0
            while start + 16 <= count {
                boxMuller16(buffer.baseAddress! + start)
                start += 16
            }
        }
        if count % 16 != 0 {
            var tail = (0..<16).map { _ in nextUniformFloat() }
            tail.withUnsafeMutableBufferPointer { boxMuller16($0.baseAddress!) }
            data.replaceSubrange((count - 16)..<count, with: tail)
        }
        return data
    }

    /// A uniform float in [0, 1) with 24 random bits (`uniform_real_distribution<float>`).
    public mutating func nextUniformFloat() -> Float {
        Float(engine.nextUInt32() & 0x00ff_ffff) * 0x1p-24
    }

    /// A uniform double in [0, 1) with 53 random bits (`uniform_real_distribution<double>`).
    public mutating func nextUniformDouble() -> Double {
        Double(engine.nextUInt64() & 0x001f_ffff_ffff_ffff) * 0x1p-53
    }

    /// One sample of `normal_distribution<double>`, using and refilling the cached spare.
    public mutating func nextDoubleNormal() -> Double {
        if let cached = cachedNormal {
            cachedNormal = nil
            return cached
        }
        let u1 = nextUniformDouble()
        let u2 = nextUniformDouble()
        let radius = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = radius * sin(theta)
        return radius * cos(theta)
    }

    /// Box–Muller in place on 16 uniforms: u1 = 1 − data[j], u2 = data[j+8].
    private func boxMuller16(_ data: UnsafeMutablePointer<Float>) {
        switch normalFill {
        case .avx2:
            let twoPi = Float(2 * Double.pi)
            for j in 0..<8 {
                let radius = (-2 * CephesVectorMath.log(1 - data[j])).squareRoot()
                let (sine, cosine) = CephesVectorMath.sincos(twoPi * data[j + 8])
                data[j] = radius * cosine
                data[j + 8] = radius * sine
            }
        case .generic:
            for j in 0..<8 {
                let radius = (-2 * logf(1 - data[j])).squareRoot()
                let theta = Float(2 * Double.pi * Double(data[j + 8]))
                data[j] = radius * cosf(theta)
                data[j + 8] = radius * sinf(theta)
            }
        }
    }
}

// MARK: - Serialisation

/// A byte string that is not an encoded `TorchGenerator`.
public struct TorchGeneratorDecodingError: Error, CustomStringConvertible {
    public let description: String
}

extension TorchGenerator {
    private static let magic: [UInt8] = Array("OBTG".utf8)
    private static let version: UInt8 = 1
    /// Size of `encoded()`: header (16) + seed (8) + next/left (8) + cached sample (8) + state words.
    public static let encodedByteCount = 16 + 8 + 8 + 8 + MersenneTwister.stateSize * 4

    /// The complete state as little-endian bytes: magic `OBTG`, version, normal fill, cached flag,
    /// padding, seed, next, left, cached sample bits, then the 624 state words.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes += [Self.version, normalFill.rawValue, cachedNormal == nil ? 0 : 1]
        bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        append(engine.seed)
        append(UInt32(engine.next))
        append(UInt32(engine.left))
        append((cachedNormal ?? 0).bitPattern)
        for word in engine.words { append(word) }
        return bytes
    }

    /// Restores a generator from `encoded()` bytes; throws naming what is wrong.
    public init<Bytes: Collection>(encoded: Bytes) throws where Bytes.Element == UInt8 {
        let bytes = Array(encoded)
        func fail(_ why: String) -> TorchGeneratorDecodingError {
            TorchGeneratorDecodingError(description: "invalid TorchGenerator state: \(why)")
        }
        guard bytes.count == Self.encodedByteCount else {
            throw fail("expected \(Self.encodedByteCount) bytes, got \(bytes.count)")
        }
        guard Array(bytes[0..<4]) == Self.magic else { throw fail("missing OBTG magic") }
        guard bytes[4] == Self.version else { throw fail("unsupported version \(bytes[4])") }
        guard let fill = NormalFill(rawValue: bytes[5]) else { throw fail("unknown normal fill \(bytes[5])") }
        guard bytes[6] <= 1 else { throw fail("bad cached-sample flag \(bytes[6])") }
        func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
            var value = T.zero
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
            return value
        }
        let seed = read(UInt64.self, at: 16)
        let next = Int(read(UInt32.self, at: 24))
        let left = Int(read(UInt32.self, at: 28))
        let cached = Double(bitPattern: read(UInt64.self, at: 32))
        let words = (0..<MersenneTwister.stateSize).map { read(UInt32.self, at: 40 + 4 * $0) }
        guard let engine = MersenneTwister(seed: seed, words: words, next: next, left: left) else {
            throw fail("Mersenne Twister position next=\(next) left=\(left) out of range")
        }
        self.engine = engine
        self.cachedNormal = bytes[6] == 1 ? cached : nil
        self.normalFill = fill
    }
}
