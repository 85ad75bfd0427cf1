import CKernels
import Foundation

/// How `conv2d` computes a convolution.
public enum ConvolutionMethod: String, Sendable, CaseIterable {
    /// Implicit GEMM over the input (every convolution can run this way).
    case direct
    /// Winograd F(2×2, 3×3): 16 GEMMs over transformed 4×4 tiles, 4 multiplies per output
    /// instead of 9 (3×3, stride 1 only). Its transforms only add and halve, so bf16 layers run
    /// its products as bf16 dot products.
    case winograd2
    /// Winograd F(4×4, 3×3): 36 GEMMs over transformed 6×6 tiles, 2.25 multiplies per output
    /// (3×3, stride 1 only). Its transforms scale by up to 8, so bf16 layers run its products in
    /// f32 (`weightFormat`).
    case winograd4

    /// Output tile side m of F(m×m, 3×3) (nil for the direct method).
    var tile: Int? {
        switch self {
        case .direct: nil
        case .winograd2: 2
        case .winograd4: 4
        }
    }

    /// The format this method's weights (and so its products) take in a layer at `precision`:
    /// the layer's own, except F(4×4, 3×3) at bf16, whose transformed tiles need more precision
    /// than bf16 activations carry (f16 weights widened to f32, f32 activations and products).
    func weightFormat(_ precision: Precision) -> Precision { self == .winograd4 && precision == .bf16 ? .f16 : precision }
}

/// Which method a 3×3 stride-1 convolution layer is built for.
///
/// A layer's method is chosen once, when its weights are packed, from the side of its output at
/// the model's native resolution (`WeightStore.featureSide`); it then keeps only that method's
/// weights (the Winograd ones are 16/9 or 4× a 3×3 kernel's), and every call — whatever the
/// batch or image size — runs that method, so a batched image gets the bits it gets alone.
///
/// Set from `OBCLIP_CONV` (`auto`, the default; `direct`; `winograd2`; `winograd4`) when a
/// process starts, so a benchmark can build both variants; tests set `current` directly.
public enum ConvolutionPolicy: String, Sendable {
    /// The measured rule (`ConvolutionPolicy.method(inChannels:outChannels:outputSide:precision:)`).
    case auto
    /// Never Winograd: the implicit-GEMM kernel for everything.
    case direct
    /// F(2×2, 3×3) for every 3×3 stride-1 convolution.
    case winograd2
    /// F(4×4, 3×3) for every 3×3 stride-1 convolution.
    case winograd4

    nonisolated(unsafe) public static var current: ConvolutionPolicy = {
        guard let s = ProcessInfo.processInfo.environment["OBCLIP_CONV"], !s.isEmpty else { return .auto }
        guard let policy = ConvolutionPolicy(rawValue: s) else {
            FileHandle.standardError.write(Data("obclip: OBCLIP_CONV=\(s) is not one of auto, direct, winograd2, winograd4; using auto\n".utf8))
            return .auto
        }
        return policy
    }()

    /// Whether the Winograd gather reads a convolution's 2× upsample itself (`OBCLIP_CONV_FUSE=0`
    /// materialises the upsampled input first, as the direct kernel needs, for A/B runs).
    nonisolated(unsafe) public static var fusesUpsample: Bool = ProcessInfo.processInfo.environment["OBCLIP_CONV_FUSE"] != "0"

    /// The method for a layer of this shape whose output is `outputSide`² pixels at the model's
    /// native resolution (nil: unknown, direct unless the policy forces Winograd). Neither the
    /// batch nor the instruction set enters the choice: replicas pinned to one `OBCLIP_ISA`
    /// compute the same bits.
    public func method(kernelSize: Int, stride: Int, inChannels: Int, outChannels: Int, outputSide: Int?,
                       precision: Precision) -> ConvolutionMethod {
        guard kernelSize == 3 && stride == 1 else { return .direct }
        switch self {
        case .direct: return .direct
        case .winograd2: return .winograd2
        case .winograd4: return .winograd4
        case .auto:
            guard let outputSide else { return .direct }
            return Self.rule(inChannels: inChannels, outChannels: outChannels, outputSide: outputSide, precision: precision)
        }
    }

    /// The measured rule (docs/DECISIONS.md, "Winograd F(2×2, 3×3) for bf16"; `obclip bench conv`
    /// on Zen 4, 2 threads). Both channel counts ≥ 32 (narrower products do not fill the
    /// micro-kernel). bf16: F(2×2) from 8×8 outputs up — 1.3–1.5× the direct kernel at 8², 1.5–2.2×
    /// on the UNets' larger layers, 1.1–1.6× on the VAE's (F(4×4) with f32 products is no faster
    /// there and has 1.5× its error). fp32 and f16: F(4×4) from 16×16 outputs up (2.5–3.6× the
    /// direct kernel; F(2×2) 1.8–2.2×), F(2×2) at 8×8 (1.55× vs F(4×4)'s 1.2–1.4×: four tiles
    /// per image leave F(4×4)'s products too short). Below 8×8 nothing was measured: direct.
    static func rule(inChannels: Int, outChannels: Int, outputSide: Int, precision: Precision) -> ConvolutionMethod {
        guard inChannels >= 32 && outChannels >= 32 && outputSide >= 8 else { return .direct }
        switch precision {
        case .bf16: return .winograd2
        case .fp32, .f16: return outputSide >= 16 ? .winograd4 : .winograd2
        }
    }
}

/// The Winograd form of a 3×3 convolution's weights: the (m+2)² matrices `G g Gᵀ` (one per
/// transformed-tile element, each `[in, out]`), packed for the GEMM, computed from the layer's
/// f32 weights.
///
/// F(4×4, 3×3) at bf16 stores them as f16 and runs the products in f32
/// (`ConvolutionMethod.weightFormat`): its transforms grow the tile values up to 100× and its output
/// transform sums them with weights up to 64, so rounding the transformed activations to bf16
/// (2⁻⁹) gave ≈7% max-relative error against the direct bf16 kernel's ≈0.3%. F(2×2, 3×3)'s
/// transforms only add and halve, and bf16 layers run it in bf16.
final class WinogradWeight: @unchecked Sendable {
    /// Output tile side m.
    let tile: Int
    /// The transformed-tile elements, one GEMM each.
    let elements: [PackedMatrix]
    /// The format the products run in.
    let precision: Precision

    /// `weight` in PyTorch's layout `[out, in, 3, 3]`, for a layer at `layerPrecision`.
    init(_ weight: Tensor, method: ConvolutionMethod, precision layerPrecision: Precision) {
        guard let tile = method.tile else { preconditionFailure("WinogradWeight: \(method) is not a Winograd method") }
        let (cout, cin) = (weight.shape[0], weight.shape[1])
        let count = (tile + 2) * (tile + 2)
        let u = Tensor(zeros: [count, cin, cout])
        let (w, out) = (weight.pointer, u.pointer)
        Parallel.forChunks(cin) { r in
            obc_winograd_weights(w, Int32(cin), Int32(cout), Int32(tile), Int32(r.lowerBound), Int32(r.upperBound), out)
        }
        self.tile = tile
        precision = method.weightFormat(layerPrecision)
        elements = (0..<count).map { [precision] e in
            PackedMatrix(out + e * cin * cout, rows: cin, columns: cout, stride: cout, transposed: false, precision: precision)
        }
    }

    var byteCount: Int { elements.reduce(0) { $0 + $1.byteCount } }
}

/// Tiles per Winograd call are processed in chunks whose transformed inputs and products take
/// at most this many bytes (the scratch memory of a call).
let defaultWinogradChunkBytes = 32 << 20

/// The chunk bound in use (tests lower it to exercise chunk boundaries).
nonisolated(unsafe) var winogradChunkBytes = defaultWinogradChunkBytes

/// The chunk bound of a layer whose transformed weights take `weightBytes`: every chunk
/// re-streams the weights, so a layer with large weights takes the whole bound, while one with
/// small weights (the 320-channel layers at 64×64: 3.3 MB of bf16 weights against 42 MB of
/// transformed tiles per image) takes smaller chunks that stay in the L3 cache between the input
/// transform, the products and the output transform.
func winogradChunkBound(weightBytes: Int) -> Int {
    Swift.min(winogradChunkBytes, Swift.max(8 << 20, 2 * weightBytes))
}

/// Winograd F(m×m, 3×3) convolution of `x` (read upsampled 2× when `upsampled`) into `out`
/// (NHWC `[n, oh, ow, cout]`): input transform (the gather fuses padding and the upsample),
/// (m+2)² GEMMs on the packed machinery, output transform adding bias (per image when
/// `perImageBias`) and residual as it stores.
func winogradConvolution(_ x: Tensor, upsampled: Bool, _ w: Conv2dWeight, _ weights: WinogradWeight, into out: Tensor,
                         bias: UnsafePointer<Float>?, perImageBias: Bool, residual: Tensor?) {
    let (n, cin, cout) = (x.shape[0], w.inChannels, w.outChannels)
    let up = upsampled ? 1 : 0
    let (oh, ow) = w.outputSize(height: x.shape[1] << up, width: x.shape[2] << up)
    let (tile, elements) = (weights.tile, weights.elements.count)
    var g = obc_winograd_geometry()
    g.x = UnsafePointer(x.pointer)
    g.height = Int32(x.shape[1]); g.width = Int32(x.shape[2]); g.channels = Int32(cin)
    g.upsample = Int32(up)
    g.out_height = Int32(oh); g.out_width = Int32(ow); g.out_channels = Int32(cout); g.padding = Int32(w.padding)
    g.tile = Int32(tile)
    g.tiles_y = Int32((oh + tile - 1) / tile); g.tiles_x = Int32((ow + tile - 1) / tile)
    let tiles = n * Int(g.tiles_y) * Int(g.tiles_x)
    let bound = winogradChunkBound(weightBytes: weights.byteCount)
    let chunk = Swift.min(tiles, Swift.max(1, bound / (elements * (cin + cout) * MemoryLayout<Float>.size)))
    let v = Tensor.kernelOutput([elements, chunk, cin]), m = Tensor.kernelOutput([elements, chunk, cout])
    let (vp, mp, yp) = (v.pointer, m.pointer, out.pointer)
    let residualPointer = residual.map { UnsafePointer($0.pointer) }
    let format = weights.precision.format
    let rowBlock = Int(OBC_MR) * 24
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

/// Multiply-adds the Winograd F(m×m, 3×3) products execute: one `[tiles, in] × [in, out]` GEMM
/// per element of the (m+2)² transformed tile.
func winogradMultiplyAdds(tile: Int, tiles: Int, inChannels: Int, outChannels: Int) -> Int {
    (tile + 2) * (tile + 2) * tiles * inChannels * outChannels
}
