import CKernels
import Foundation

/// 2-D convolution weights, given as PyTorch stores them (`[out, in, kh, kw]`), packed once
/// into the GEMM kernel's B layout with depth ordered (ky, kx, in) — the order in which the
/// implicit-GEMM convolution reads an NHWC input.
public final class Conv2dWeight: @unchecked Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// `[kh·kw·in, out]` packed for the GEMM kernel.
    public let packed: PackedMatrix
    public let bias: Tensor?
    private let winogradLock = NSLock()
    private var winogradWeights: WinogradWeight?

    /// The Winograd form of these weights (3×3 only), built on first use — so only the layers
    /// that the rule sends through Winograd pay its 4× weight memory — and kept.
    var winograd: WinogradWeight {
        winogradLock.lock(); defer { winogradLock.unlock() }
        if let winogradWeights { return winogradWeights }
        let built = WinogradWeight(self)
        winogradWeights = built
        return built
    }

    /// Packs `weight` at `precision` (bias stays f32).
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, precision: Precision = .fp32) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3],
                     "conv weight must be [out, in, k, k], got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0, "conv stride must be ≥ 1 and padding ≥ 0")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        kernelSize = weight.shape[2]
        if let bias { precondition(bias.count == outChannels, "conv bias has \(bias.count) values, expected \(outChannels)") }
        self.stride = stride
        self.padding = padding
        let k = kernelSize, cin = inChannels, cout = outChannels
        // PyTorch's [out, in, ky, kx] is the transpose of B = [(ky, kx, in), out] up to a
        // reorder of the depth axis; reorder to [out, (ky, kx, in)] and pack it transposed.
        let reordered = Tensor(zeros: [cout, k * k * cin])
        let (src, dst) = (weight.pointer, reordered.pointer)
        Parallel.forChunks(cout) { range in
            for o in range { obc_transpose(src + o * cin * k * k, cin, k * k, dst + o * k * k * cin) }
        }
        packed = PackedMatrix(reordered.pointer, rows: k * k * cin, columns: cout,
                              stride: k * k * cin, transposed: true, precision: precision)
        self.bias = bias
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }
}

/// Convolution of an NHWC tensor; returns NHWC. Zero padding. A residual (same shape as the
/// result) and a per-image channel vector (`[batch, out]`, such as a UNet resnet's time
/// embedding projection) are added as the output is stored, saving passes over memory.
/// `normalizedBy` (a GroupNorm's coefficients, see `groupNormAffine`) and `upsampled` (nearest
/// 2×) describe the convolution's real input in terms of `x`: the result is
/// `conv(upsample(affine(x)))`, and the Winograd path applies both as it gathers its tiles,
/// so neither intermediate is stored.
///
/// 3×3 stride-1 convolutions run as Winograd F(4×4, 3×3) where `ConvolutionPolicy.current`
/// says it pays (see `winogradConvolution`). Everything else is an implicit GEMM: output pixels
/// are the rows of A and (ky, kx, in) its depth, but A is never built — the GEMM's A-packing
/// step gathers each block straight from the input (zeros where a tap falls in the padding), so
/// the only extra memory is the kernel's per-thread A-block buffer. A 1×1, stride-1, unpadded
/// convolution is exactly a GEMM over the pixels.
public func conv2d(_ x: Tensor, _ w: Conv2dWeight, normalizedBy affine: ChannelAffine? = nil, upsampled: Bool = false,
                   adding residual: Tensor? = nil, addingPerImage imageBias: Tensor? = nil) -> Tensor {
    precondition(x.rank == 4 && x.shape[3] == w.inChannels, "conv2d expects NHWC with \(w.inChannels) channels, got \(x.shape)")
    let input = ConvolutionInput(x: x, affine: affine, upsampled: upsampled)
    let (n, h, wd, cin) = (x.shape[0], input.height, input.width, x.shape[3])
    let (oh, ow) = w.outputSize(height: h, width: wd)
    precondition(oh > 0 && ow > 0, "conv2d: input \(h)×\(wd) is smaller than the \(w.kernelSize)×\(w.kernelSize) kernel")
    let cout = w.outChannels, k = w.kernelSize
    if let residual { precondition(residual.shape == [n, oh, ow, cout], "conv2d: residual \(residual.shape) is not the output shape") }
    if let imageBias { precondition(imageBias.count == n * cout, "conv2d: per-image bias must be [\(n), \(cout)], got \(imageBias.shape)") }
    let tile = Int(OBC_WINOGRAD_TILE) - 2
    let tilesPerImage = ((oh + tile - 1) / tile) * ((ow + tile - 1) / tile)
    let method = ConvolutionPolicy.current.method(for: w, tiles: tilesPerImage)
    // One bias row per image: the weights' bias plus the image's vector.
    var bias = w.bias
    if let imageBias { bias = w.bias.map { addRowVector(perImage: imageBias, $0) } ?? imageBias }
    if (method == .direct || !ConvolutionPolicy.fusesInput) && (affine != nil || upsampled) {
        // The implicit GEMM's gather reads x as it is: materialise the real input.
        var real = affine.map { $0.apply(x) } ?? x
        if upsampled { real = upsampleNearest2x(real) }
        return conv2d(real, w, adding: residual, addingPerImage: imageBias)
    }
    let out = Tensor.kernelOutput([n, oh, ow, cout])
    let direct = n * oh * ow * cout * cin * k * k
    let executed = method == .winograd ? winogradMultiplyAdds(tiles: n * tilesPerImage, inChannels: cin, outChannels: cout) : direct
    let label = "conv \(k)×\(k)/\(w.stride) \(oh)×\(ow) \(cin)→\(cout) \(method.rawValue)"
        + (affine != nil ? "+norm" : "") + (upsampled ? "+up" : "")
    FLOPMeter.run(.convolution, multiplyAdds: direct, executed: executed, label: label) {
        if method == .winograd {
            winogradConvolution(input, w, into: out, bias: bias?.pointer, perImageBias: imageBias != nil, residual: residual)
            return
        }
        var source: obc_a_source
        if k == 1 && w.stride == 1 && w.padding == 0 {
            source = denseSource(x.pointer, lda: cin)
        } else {
            source = obc_a_source()
            source.kind = 1
            source.a = UnsafePointer(x.pointer)
            source.height = Int32(h)
            source.width = Int32(wd)
            source.channels = Int32(cin)
            source.out_height = Int32(oh)
            source.out_width = Int32(ow)
            source.kernel = Int32(k)
            source.stride = Int32(w.stride)
            source.padding = Int32(w.padding)
        }
        runPackedGEMM(source, m: n * oh * ow, b: w.packed, c: out.pointer, ldc: cout,
                      bias: bias?.pointer, biasRows: imageBias == nil ? 0 : oh * ow,
                      addend: residual.map { UnsafePointer($0.pointer) }, ldAddend: cout)
    }
    return out
}

/// `rows[b, j] + v[j]` for a small `[batch, c]` matrix (a few thousand values: no threads).
private func addRowVector(perImage rows: Tensor, _ v: Tensor) -> Tensor {
    let out = Tensor.kernelOutput(rows.shape)
    obc_add_row_vector(rows.pointer, v.pointer, out.pointer, rows.count / v.count, Int32(v.count))
    return out
}
