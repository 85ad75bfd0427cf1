import ArgumentParser
import Foundation
import TensorCore

/// `obclip bench conv`: each 3×3 stride-1 convolution shape of SD1.5's UNet, BK-SDM-small and the
/// SD VAE decoder (batch 1, 512×512 images), timed by the direct implicit-GEMM kernel and by
/// Winograd F(4×4, 3×3) alternately in one run: the measurements behind
/// `ConvolutionPolicy.winogradPays`.
struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Direct vs Winograd time of each 3×3 convolution shape of the UNets and the VAE."
    )

    @Option(help: "Arithmetic of the weights (fp32, f16 or bf16).")
    var precision = Precision.fp32

    @Option(help: "Images per call (scales the tile count).")
    var batch = 1

    @Option(help: "Timed runs per figure, alternating direct and Winograd; the best of each is reported.")
    var `repeat` = 5

    @Flag(help: "Also time the Winograd path with the GroupNorm+SiLU affine (or the 2× upsample) fused into its gather vs applied first.")
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

    func run() throws {
        print("3×3 stride-1 pad-1 convolutions, batch \(batch), \(precision.rawValue), kernels \(KernelDispatch.isa), threads \(Parallel.threads), best of \(`repeat`) (alternating)")
        print(pad("layer", 20) + pad("out", 6) + pad("in→out", 12) + pad("tiles", 7) + pad("direct ms", 11) + pad("winograd ms", 13)
              + pad("direct/winograd", 17) + pad("max|Δ|/max|y|", 15) + (fusion ? pad("unfused ms", 12) + "unfused/fused" : "") + "  rule")
        let saved = ConvolutionPolicy.current
        defer { ConvolutionPolicy.current = saved }
        for (name, side, cin, cout, upsampled) in Self.shapes {
            let inSide = upsampled ? side / 2 : side
            let x = Self.uniform([batch, inSide, inSide, cin], seed: 1)
            let weight = Self.uniform([cout, cin, 3, 3], seed: 2, scale: 0.05)
            let conv = Conv2dWeight(weight: weight, bias: nil, padding: 1, precision: precision)
            let affine = fusion && !upsampled
                ? groupNormAffine(x, groups: 32, weight: Tensor(shape: [cin], repeating: 1), bias: Tensor(zeros: [cin]), eps: 1e-6, silu: true)
                : nil
            let tiles = batch * ((side + 3) / 4) * ((side + 3) / 4)
            func call() { _ = conv2d(x, conv, normalizedBy: affine, upsampled: upsampled) }
            var variants: [(ConvolutionPolicy, Bool)] = [(.direct, true), (.winograd, true)]
            if fusion { variants.append((.winograd, false)) }
            var best = [Double](repeating: .infinity, count: variants.count)
            for v in variants { ConvolutionPolicy.current = v.0; ConvolutionPolicy.fusesInput = v.1; call() }
            for _ in 0..<`repeat` {
                for (i, v) in variants.enumerated() {
                    ConvolutionPolicy.current = v.0
                    ConvolutionPolicy.fusesInput = v.1
                    best[i] = Swift.min(best[i], timed(call).1)
                }
            }
            ConvolutionPolicy.fusesInput = true
            ConvolutionPolicy.current = .direct
            let yDirect = conv2d(x, conv, normalizedBy: affine, upsampled: upsampled)
            ConvolutionPolicy.current = .winograd
            let yWinograd = conv2d(x, conv, normalizedBy: affine, upsampled: upsampled)
            var worst: Float = 0, scale: Float = 0
            for i in 0..<yDirect.count {
                worst = Swift.max(worst, Swift.abs(yDirect.pointer[i] - yWinograd.pointer[i]))
                scale = Swift.max(scale, Swift.abs(yDirect.pointer[i]))
            }
            let rule = ConvolutionPolicy.auto.method(for: conv, tiles: tiles / batch)
            var line = pad(name, 20) + pad("\(side)²", 6) + pad("\(cin)→\(cout)", 12) + pad("\(tiles)", 7)
                + pad(String(format: "%.2f", best[0] * 1e3), 11) + pad(String(format: "%.2f", best[1] * 1e3), 13)
                + pad(String(format: "%.2f", best[0] / best[1]), 17) + pad(String(format: "%.1e", worst / scale), 15)
            if fusion { line += pad(String(format: "%.2f", best[2] * 1e3), 12) + pad(String(format: "%.2f", best[2] / best[1]), 13) }
            print(line + "  " + rule.rawValue)
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
