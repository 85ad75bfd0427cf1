import ArgumentParser
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// `obclip bench gemm`: GFLOP/s of obclip's GEMM on Stable Diffusion's shapes next to
/// OpenBLAS's `cblas_sgemm` measured in the same run (loaded at run time, so obclip never
/// links it), plus a 3×3 convolution and a 4096-token attention. Each figure is the best of
/// `--repeat` runs, since the machine may be shared.
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GEMM, convolution and attention GFLOP/s (obclip vs OpenBLAS), on 1 and 2 threads."
    )

    @Option(help: "Thread count to measure (default: 1 and then 2).")
    var threads: Int?

    @Option(help: "Timed runs per figure; the best is reported.")
    var `repeat` = 5

    @Option(help: "Also measure obclip at this precision, right after f32: f16 (weights) or bf16 (weights and activations; attention too).")
    var precision = Precision.fp32

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be ≥ 1") }
    }

    /// (M, K, N): the issue's three shapes first, then the UNet's other hot products.
    static let shapes = [
        (4096, 320, 1280), (1024, 640, 640), (4096, 40, 4096),
        (4096, 320, 320), (4096, 1280, 320), (1024, 2560, 640), (256, 1280, 1280), (77, 768, 3072),
    ]

    func run() throws {
        let blas = OpenBLAS.load()
        let threadCounts = threads.map { [$0] } ?? [1, 2]
        print("obclip kernels: \(KernelDispatch.isa); OpenBLAS: \(blas == nil ? "not installed (libopenblas.so.0 not found)" : "libopenblas.so.0"); best of \(`repeat`) runs")
        print("GEMM C[M×N] = A[M×K]·B[K×N], f32, row-major; obclip's B is pre-packed (as weights are)")
        let half = precision == .fp32 ? nil : precision
        print(pad("M×K×N", 18) + pad("threads", 8) + pad("obclip GFLOP/s", 16) + pad("s", 10)
              + (half.map { pad("obclip \($0.rawValue) GFLOP/s", 22) } ?? "") + pad("OpenBLAS GFLOP/s", 18) + "s")
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (m, k, n) in Self.shapes {
            let a = Self.values([m, k], seed: 1), b = Self.values([k, n], seed: 2)
            let c = Tensor(zeros: [m, n])
            let packed = PackedMatrix(b), packedHalf = half.map { PackedMatrix(b, precision: $0) }
            let flop = 2.0 * Double(m * n * k)
            for t in threadCounts {
                Parallel.threads = t
                let ours = best {
                    gemm(m: m, a: a.pointer, lda: k, b: packed, c: c.pointer, ldc: n, bias: nil, accumulate: false)
                }
                var line = pad("\(m)×\(k)×\(n)", 18) + pad("\(t)", 8) + pad(gflops(flop, ours), 16) + pad(seconds(ours), 10)
                if let packedHalf {
                    let halfSeconds = best {
                        gemm(m: m, a: a.pointer, lda: k, b: packedHalf, c: c.pointer, ldc: n, bias: nil, accumulate: false)
                    }
                    line += pad(gflops(flop, halfSeconds), 22)
                }
                if let blas {
                    blas.setThreads(t)
                    let theirs = best { blas.sgemm(m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer) }
                    line += pad(gflops(flop, theirs), 18) + seconds(theirs)
                } else {
                    line += "not installed"
                }
                print(line)
            }
        }

        print("\nconv2d 3×3 pad 1, NHWC 1×64×64×320 → 320 (implicit GEMM)")
        let x = Self.values([1, 64, 64, 320], seed: 3)
        let convWeight = Self.values([320, 320, 3, 3], seed: 4, scale: 0.05), convBias = Self.values([320], seed: 5)
        let convFLOP = 2.0 * Double(64 * 64 * 320 * 320 * 9)
        for p in [Precision.fp32] + (half.map { [$0] } ?? []) {
            let conv = Conv2dWeight(weight: convWeight, bias: convBias, precision: p)
            for t in threadCounts {
                Parallel.threads = t
                let s = best { _ = conv2d(x, conv) }
                print(pad("  \(p.rawValue) threads \(t)", 18) + pad(gflops(convFLOP, s) + " GFLOP/s", 22) + seconds(s) + " s")
            }
        }

        print("\nattention 4096 queries × 4096 keys, 8 heads, d = 40 (flash-style, effective GFLOP/s)")
        let q = Self.values([1, 4096, 320], seed: 6), kk = Self.values([1, 4096, 320], seed: 7), v = Self.values([1, 4096, 320], seed: 8)
        let attentionFLOP = 2.0 * Double(8 * 4096 * 4096 * (40 + 40))
        // Attention has no weights; only bf16 changes its arithmetic.
        for p in [Precision.fp32] + (half == .bf16 ? [.bf16] : []) {
            for t in threadCounts {
                Parallel.threads = t
                let s = best { _ = attention(q: q, k: kk, v: v, heads: 8, precision: p) }
                print(pad("  \(p.rawValue) threads \(t)", 18) + pad(gflops(attentionFLOP, s) + " GFLOP/s", 22) + seconds(s) + " s")
            }
        }
    }

    /// Best wall time of `repeat` runs after one warm-up.
    private func best(_ body: () -> Void) -> Double {
        body()
        var result = Double.infinity
        for _ in 0..<`repeat` {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            result = Swift.min(result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return result
    }

    private static func values(_ shape: [Int], seed: Int, scale: Float = 1) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { scale * sinf(Float($0 &* 7 &+ seed * 13) * 0.618) })
    }
}

private func gflops(_ flop: Double, _ seconds: Double) -> String { String(format: "%.1f", flop / seconds / 1e9) }

private func seconds(_ s: Double) -> String { String(format: "%.4f", s) }

/// OpenBLAS's `cblas_sgemm`, resolved with `dlopen` so obclip builds and runs without it.
private struct OpenBLAS {
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>, Int32, UnsafePointer<Float>, Int32, Float,
                                      UnsafeMutablePointer<Float>, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    let sgemmFunction: SGEMM
    let setThreadsFunction: SetThreads?

    static func load() -> OpenBLAS? {
        guard let handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL),
              let sgemm = dlsym(handle, "cblas_sgemm") else { return nil }
        let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        return OpenBLAS(sgemmFunction: unsafeBitCast(sgemm, to: SGEMM.self), setThreadsFunction: setThreads)
    }

    func setThreads(_ n: Int) { setThreadsFunction?(Int32(n)) }

    /// Row-major C = A·B with A m×k and B k×n.
    func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111
        sgemmFunction(rowMajor, noTrans, noTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
    }
}
