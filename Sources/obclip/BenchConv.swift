import ArgumentParser
import Foundation
import TensorCore

/// `obclip bench conv`: each 3×3 stride-1 convolution shape of SD1.5's UNet, BK-SDM-small and the
/// SD VAE decoder (batch 1, 512×512 images), timed by the direct implicit-GEMM kernel and by
/// Winograd F(2×2, 3×3) and F(4×4, 3×3) alternately in one run, with each method's error: the
/// measurements behind `ConvolutionPolicy.rule`.
struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Direct vs Winograd F(2×2) and F(4×4) time and error of each 3×3 convolution shape of the UNets and the VAE."
    )

    @Option(help: "Arithmetic of the weights (fp32, f16 or bf16).")
    var precision = Precision.fp32

    @Option(help: "Images per call (scales the tile count).")
    var batch = 1

    @Option(help: "Timed runs per figure, alternating the methods; the best of each is reported.")
    var `repeat` = 5

    @Option(help: "Only shapes whose label contains this (e.g. vae, 16²).")
    var only: String?

    @Flag(help: "Also time the Winograd methods of the upsampler shapes with the 2× upsample materialised first instead of read by their gather.")
    var fusion = false

    func validate() throws {
        guard batch >= 1, `repeat` >= 1 else { throw ValidationError("--batch and --repeat must be ≥ 1") }
    }

    /// (where, output side, input channels, output channels, upsampled input).
    static let shapes: [(String, Int, Int, Int, Bool)] = [
        ("unet 64²", 64, 320, 320, false), ("unet 64² up", 64, 640, 320, false), ("unet 64² up", 64, 960, 320, false),
        ("unet 32²", 32, 320, 640, false), ("unet 32²", 32, 640, 640, false), ("unet 32² up", 32, 1280, 640, false),
        ("unet 32² up", 32, 960, 640, false), ("unet 64² upsampler", 64, 640, 640, true),
        ("unet 16²", 16, 640, 1280, false), ("unet 16²", 16, 1280, 1280, false), ("unet 16² up", 16, 2560, 1280, false),
        ("unet 16² up", 16, 1920, 1280, false), ("unet 32² upsampler", 32, 1280, 1280, true),
        ("unet 8²", 8, 1280, 1280, false), ("unet 8² up", 8, 2560, 1280, false), ("unet 16² upsampler", 16, 1280, 1280, true),
        ("vae 64²", 64, 512, 512, false), ("vae 128² upsampler", 128, 512, 512, true), ("vae 128²", 128, 512, 512, false),
        ("vae 256² upsampler", 256, 512, 512, true), ("vae 256²", 256, 512, 256, false), ("vae 256²", 256, 256, 256, false),
        ("vae 512² upsampler", 512, 256, 256, true), ("vae 512²", 512, 256, 128, false), ("vae 512²", 512, 128, 128, false),
    ]

    static let methods: [(ConvolutionMethod, ConvolutionPolicy)] = [(.direct, .direct), (.winograd2, .winograd2), (.winograd4, .winograd4)]

    func run() throws {
        print("3×3 stride-1 pad-1 convolutions, batch \(batch), \(precision.rawValue), kernels \(KernelDispatch.isa), threads \(Parallel.threads), best of \(`repeat`) (alternating)")
        print("error: max |y − exact| / max |exact| over 32–512 sampled output pixels (all channels), exact = the double-precision convolution of the f32 data and weights")
        var header = pad("layer", 20) + pad("out", 6) + pad("in→out", 12)
        for (m, _) in Self.methods { header += pad("\(m.rawValue) ms", 15) }
        header += pad("direct/w2", 11) + pad("direct/w4", 11)
        for (m, _) in Self.methods { header += pad("err \(m.rawValue)", 16) }
        print(header + (fusion ? pad("w2 unfused/fused", 18) + pad("w4 unfused/fused", 18) : "") + "rule")
        let saved = ConvolutionPolicy.current
        defer { ConvolutionPolicy.current = saved; ConvolutionPolicy.fusesUpsample = true }
        for (name, side, cin, cout, upsampled) in Self.shapes where only.map({ name.contains($0) }) ?? true {
            let inSide = upsampled ? side / 2 : side
            let x = Self.uniform([batch, inSide, inSide, cin], seed: 1)
            let weight = Self.uniform([cout, cin, 3, 3], seed: 2, scale: 0.05)
            let layers = Self.methods.map { (_, policy) -> Conv2dWeight in
                ConvolutionPolicy.current = policy
                return Conv2dWeight(weight: weight, bias: nil, padding: 1, precision: precision)
            }
            // (layer, fused) variants: each method fused; with --fusion the Winograd ones unfused too.
            let unfused = fusion && upsampled
            var variants = layers.indices.map { ($0, true) }
            if unfused { variants += [(1, false), (2, false)] }
            func call(_ v: (Int, Bool)) -> Tensor {
                ConvolutionPolicy.fusesUpsample = v.1
                return conv2d(x, layers[v.0], upsampled: upsampled)
            }
            var best = [Double](repeating: .infinity, count: variants.count)
            for v in variants { _ = call(v) }
            for _ in 0..<`repeat` {
                for (i, v) in variants.enumerated() { best[i] = Swift.min(best[i], timed { call(v) }.1) }
            }
            // Enough sampled pixels for a stable maximum, within ~2·10⁹ multiply-adds of reference.
            let samples = Swift.min(512, Swift.max(32, 2_000_000_000 / (9 * cin * cout)))
            let exact = SampledExactConvolution(x: x, weight: weight, upsampled: upsampled, samples: samples)
            let errors = layers.indices.map { exact.relativeError(call(($0, true))) }
            ConvolutionPolicy.current = .auto
            let rule = ConvolutionPolicy.auto.method(kernelSize: 3, stride: 1, inChannels: cin, outChannels: cout, outputSide: side, precision: precision)
            var line = pad(name, 20) + pad("\(side)²", 6) + pad("\(cin)→\(cout)", 12)
            for i in layers.indices { line += pad(String(format: "%.2f", best[i] * 1e3), 15) }
            line += pad(String(format: "%.2f", best[0] / best[1]), 11) + pad(String(format: "%.2f", best[0] / best[2]), 11)
            for e in errors { line += pad(String(format: "%.1e", e), 16) }
            if fusion {
                line += unfused ? pad(String(format: "%.2f", best[3] / best[1]), 18) + pad(String(format: "%.2f", best[4] / best[2]), 18)
                    : pad("-", 18) + pad("-", 18)
            }
            print(line + rule.rawValue)
        }
    }

    /// The exact (double) convolution of `conv(upsample(x))` at a sample of output pixels
    /// (all output channels of each), for error figures without a full reference convolution.
    struct SampledExactConvolution {
        let pixels: [(image: Int, y: Int, x: Int)]
        let values: [Double]
        let outChannels: Int
        let shape: (height: Int, width: Int)

        init(x: Tensor, weight: Tensor, upsampled: Bool, samples: Int) {
            let (n, sh, sw, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let (h, w) = upsampled ? (2 * sh, 2 * sw) : (sh, sw)
            let cout = weight.shape[0]
            var state: UInt64 = 12345
            func next(_ bound: Int) -> Int {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int((state >> 33) % UInt64(bound))
            }
            pixels = (0..<samples).map { _ in (next(n), next(h), next(w)) }
            var values = [Double](repeating: 0, count: samples * cout)
            for (s, p) in pixels.enumerated() {
                for ky in 0..<3 { for kx in 0..<3 {
                    let iy = p.y - 1 + ky, ix = p.x - 1 + kx
                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                    let (sy, sx) = upsampled ? (iy / 2, ix / 2) : (iy, ix)
                    for c in 0..<cin {
                        let v = Double(x.pointer[((p.image * sh + sy) * sw + sx) * cin + c])
                        for o in 0..<cout { values[s * cout + o] += v * Double(weight.pointer[((o * cin + c) * 3 + ky) * 3 + kx]) }
                    }
                } }
            }
            self.values = values
            outChannels = cout
            shape = (h, w)
        }

        /// max |y − exact| / max |exact| over the sampled pixels.
        func relativeError(_ y: Tensor) -> Double {
            var worst = 0.0, scale = 0.0
            for (s, p) in pixels.enumerated() {
                for o in 0..<outChannels {
                    let exact = values[s * outChannels + o]
                    let got = Double(y.pointer[((p.image * shape.height + p.y) * shape.width + p.x) * outChannels + o])
                    worst = Swift.max(worst, abs(got - exact))
                    scale = Swift.max(scale, abs(exact))
                }
            }
            return worst / scale
        }
    }

    /// Uniform(-scale, scale) values from a SplitMix64 stream: uncorrelated across channels, as
    /// trained weights and activations roughly are (a periodic fill would understate |y| and
    /// overstate relative errors).
    static func uniform(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return scale * Float(Double(z >> 40) / Double(1 << 24) * 2 - 1)
        }
        return Tensor(shape: shape, scalars: values)
    }
}
