import CKernels
import Foundation

/// How `conv2d` computes a convolution.
public enum ConvolutionMethod: String, Sendable {
    /// Implicit GEMM over the input (every convolution can run this way).
    case direct
    /// Winograd F(4×4, 3×3): 36 GEMMs over transformed 6×6 tiles, 2.25 multiplies per output
    /// instead of 9 (3×3, stride 1 only).
    case winograd
}

/// Which method `conv2d` uses for the convolutions that could run as Winograd.
///
/// Set from `OBCLIP_CONV` (`auto`, the default; `direct`; `winograd`), so a benchmark can run
/// both in one build; tests set `current` directly.
public enum ConvolutionPolicy: String, Sendable {
    /// The measured rule (`ConvolutionPolicy.winogradPays`).
    case auto
    /// Never Winograd: the implicit-GEMM kernel for everything.
    case direct
    /// Winograd for every 3×3 stride-1 convolution.
    case winograd

    nonisolated(unsafe) public static var current: ConvolutionPolicy = {
        guard let s = ProcessInfo.processInfo.environment["OBCLIP_CONV"], !s.isEmpty else { return .auto }
        guard let policy = ConvolutionPolicy(rawValue: s) else {
            FileHandle.standardError.write(Data("obclip: OBCLIP_CONV=\(s) is not one of auto, direct, winograd; using auto\n".utf8))
            return .auto
        }
        return policy
    }()

    /// Whether the Winograd gather applies a convolution's GroupNorm+SiLU and 2× upsample itself
    /// (`OBCLIP_CONV_FUSE=0` materialises them first, as the direct kernel does, for A/B runs).
    nonisolated(unsafe) public static var fusesInput: Bool = ProcessInfo.processInfo.environment["OBCLIP_CONV_FUSE"] != "0"

    /// The method for a convolution of `w` producing `tiles` 4×4 output tiles per image. The
    /// batch size must not enter the choice: a batched request's images have to get the bits
    /// they get alone (see docs/DECISIONS.md, "batching compatible requests"), and so must the
    /// instruction set (replicas pinned to one `OBCLIP_ISA` compute the same bits).
    public func method(for w: Conv2dWeight, tiles: Int) -> ConvolutionMethod {
        guard w.kernelSize == 3 && w.stride == 1 else { return .direct }
        switch self {
        case .direct: return .direct
        case .winograd: return .winograd
        case .auto:
            return Self.winogradPays(inChannels: w.inChannels, outChannels: w.outChannels, tiles: tiles, precision: w.packed.precision)
                ? .winograd : .direct
        }
    }

    /// The measured rule (docs/DECISIONS.md, `obclip bench conv`): Winograd when both channel
    /// counts are wide enough to keep the per-element GEMMs efficient and there are enough tiles
    /// to amortise streaming 4× the direct kernel's weights. On Zen 5, fp32: 1.5–6× faster than
    /// the direct kernel from 16×16 outputs (16 tiles) up, 0.6–0.9× at 8×8 (4 tiles, where each
    /// of the 36 products has 4 rows against megabytes of weights). bf16 layers compare f32
    /// Winograd products against bf16 dot products at twice the rate: 1.8–1.9× at 64×64, only
    /// 1.1–1.3× at 32×32 and 0.9–1.6× at 16×16, and no gain over a whole BK-SDM-small forward
    /// with the fp32 threshold, so bf16 takes Winograd at 64×64 (256 tiles) and up.
    static func winogradPays(inChannels: Int, outChannels: Int, tiles: Int, precision: Precision) -> Bool {
        inChannels >= 32 && outChannels >= 32 && tiles >= (precision == .bf16 ? 256 : 16)
    }
}

/// The Winograd form of a 3×3 convolution's weights: the 36 matrices `G g Gᵀ` (one per
/// transformed-tile element, each `[in, out]`), packed for the GEMM. Built from the direct
/// weights' packed panels, i.e. from the values the direct kernel multiplies by.
///
/// bf16 layers store them as f16 and run the products in f32 (`Precision.winogradStorage`):
/// F(4×4, 3×3)'s transforms grow the tile values up to 100× and its output transform sums
/// them with weights up to 64, so rounding the transformed activations to bf16 (2⁻⁹) gave
/// ≈7% max-relative error against the direct bf16 kernel's ≈0.3% (`obclip bench conv`).
final class WinogradWeight: @unchecked Sendable {
    static let elements = Int(OBC_WINOGRAD_TILE * OBC_WINOGRAD_TILE)
    let elements: [PackedMatrix]

    init(_ w: Conv2dWeight) {
        let (cin, cout) = (w.inChannels, w.outChannels)
        let direct = Tensor(zeros: [9 * cin, cout])
        obc_unpack_b(w.packed.storage, Int32(9 * cin), Int32(cout), w.packed.precision.format, direct.pointer)
        let u = Tensor(zeros: [Self.elements, cin, cout])
        let (b, out) = (direct.pointer, u.pointer)
        Parallel.forChunks(cin) { r in
            obc_winograd_weights(b, Int32(cin), Int32(cout), Int32(r.lowerBound), Int32(r.upperBound), out)
        }
        elements = (0..<Self.elements).map { e in
            PackedMatrix(out + e * cin * cout, rows: cin, columns: cout, stride: cout, transposed: false,
                         precision: w.packed.precision.winogradStorage)
        }
    }

    var byteCount: Int { elements.reduce(0) { $0 + $1.byteCount } }
}

extension Precision {
    /// The format Winograd weights of a layer at this precision are stored in: its own, except
    /// bf16, whose transformed tiles need more precision than bf16 activations carry (f16
    /// weights widened to f32, f32 activations and products).
    var winogradStorage: Precision { self == .bf16 ? .f16 : self }
}

/// What a convolution's input gather applies before the taps are read.
struct ConvolutionInput {
    var x: Tensor
    /// GroupNorm (+SiLU) coefficients to apply to each pixel read.
    var affine: ChannelAffine?
    /// Whether the convolution reads `x` upsampled 2× (nearest).
    var upsampled: Bool

    var height: Int { x.shape[1] << (upsampled ? 1 : 0) }
    var width: Int { x.shape[2] << (upsampled ? 1 : 0) }
}

/// Tiles per Winograd call are processed in chunks whose transformed inputs and products take
/// about this many bytes (both are streamed once, so the bound only caps scratch memory).
let defaultWinogradChunkBytes = 32 << 20
/// The chunk bound in use (tests lower it to exercise chunk boundaries).
nonisolated(unsafe) var winogradChunkBytes = defaultWinogradChunkBytes

/// Winograd F(4×4, 3×3) convolution into `out` (NHWC `[n, oh, ow, cout]`): input transform
/// (the gather fuses padding, the optional GroupNorm+SiLU and the optional 2× upsample), 36
/// GEMMs on the packed machinery, output transform adding bias (per image when `biasRows`)
/// and residual as it stores.
func winogradConvolution(_ input: ConvolutionInput, _ w: Conv2dWeight, into out: Tensor,
                         bias: UnsafePointer<Float>?, perImageBias: Bool, residual: Tensor?) {
    let x = input.x
    let (n, cin, cout) = (x.shape[0], w.inChannels, w.outChannels)
    let (oh, ow) = w.outputSize(height: input.height, width: input.width)
    let elements = WinogradWeight.elements
    let tile = Int(OBC_WINOGRAD_TILE) - 2
    var g = obc_winograd_geometry()
    g.x = UnsafePointer(x.pointer)
    g.height = Int32(x.shape[1]); g.width = Int32(x.shape[2]); g.channels = Int32(cin)
    g.upsample = input.upsampled ? 1 : 0
    g.out_height = Int32(oh); g.out_width = Int32(ow); g.out_channels = Int32(cout); g.padding = Int32(w.padding)
    g.tiles_y = Int32((oh + tile - 1) / tile); g.tiles_x = Int32((ow + tile - 1) / tile)
    let tiles = n * Int(g.tiles_y) * Int(g.tiles_x)
    let weights = w.winograd
    let chunk = Swift.min(tiles, Swift.max(1, winogradChunkBytes / (elements * (cin + cout) * MemoryLayout<Float>.size)))
    let v = Tensor.kernelOutput([elements, chunk, cin]), m = Tensor.kernelOutput([elements, chunk, cout])
    let (vp, mp, yp) = (v.pointer, m.pointer, out.pointer)
    let residualPointer = residual.map { UnsafePointer($0.pointer) }
    let format = w.packed.precision.winogradStorage.format
    let rowBlock = Int(OBC_MR) * 24
    func run(_ affine: UnsafePointer<Float>?, _ shift: UnsafePointer<Float>?) {
        g.mul = affine; g.add = shift
        g.act = input.affine?.activation ?? Int32(OBC_ACT_IDENTITY)
        var t0 = 0
        while t0 < tiles {
            let tc = Swift.min(chunk, tiles - t0), base = t0
            Parallel.forChunks(tc) { r in
                var geometry = g
                obc_winograd_input(&geometry, Int32(base + r.lowerBound), Int32(base + r.upperBound), Int32(base), vp, chunk * cin)
            }
            // One job per (element, block of rows): each streams its element's packed weights once.
            let blocks = (tc + rowBlock - 1) / rowBlock
            Parallel.forEach(elements * blocks) { job in
                let e = job / blocks, lo = job % blocks * rowBlock, hi = Swift.min(tc, lo + rowBlock)
                var source = denseSource(vp + e * chunk * cin, lda: cin)
                obc_gemm(&source, Int32(lo), Int32(hi), 0, Int32(cout), Int32(cout), Int32(cin),
                         UnsafeRawPointer(weights.elements[e].storage), format, mp + e * chunk * cout, cout, nil, nil, 0)
            }
            Parallel.forChunks(tc) { r in
                var geometry = g
                obc_winograd_output(&geometry, mp, chunk * cout, Int32(base + r.lowerBound), Int32(base + r.upperBound), Int32(base),
                                    bias, perImageBias ? cout : 0, residualPointer, yp)
            }
            t0 += tc
        }
    }
    if let affine = input.affine {
        affine.mul.withUnsafeBufferPointer { mul in affine.add.withUnsafeBufferPointer { add in run(mul.baseAddress, add.baseAddress) } }
    } else {
        run(nil, nil)
    }
}

/// Multiply-adds the Winograd products execute: one `[tiles, in] × [in, out]` GEMM per element.
func winogradMultiplyAdds(tiles: Int, inChannels: Int, outChannels: Int) -> Int {
    WinogradWeight.elements * tiles * inChannels * outChannels
}
