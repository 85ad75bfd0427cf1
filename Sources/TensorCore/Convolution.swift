import CKernels
import Foundation

/// 2-D convolution weights, given as PyTorch stores them (`[out, in, kh, kw]`), prepared once for
/// the layer's `method`: packed into the GEMM kernel's B layout with depth ordered (ky, kx, in) —
/// the order in which the implicit-GEMM convolution reads an NHWC input — or transformed for
/// Winograd. A layer keeps only its method's weights.
public final class Conv2dWeight: @unchecked Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// The arithmetic of the layer (bias stays f32).
    public let precision: Precision
    /// How every call of this layer computes (see `ConvolutionPolicy`).
    public let method: ConvolutionMethod
    /// The weights in the form `method` multiplies by.
    let prepared: PreparedWeights
    public let bias: Tensor?

    /// Prepares `weight` at `precision` for the method `ConvolutionPolicy.current` picks for a
    /// layer whose output is `outputSide`² pixels at the model's native resolution (nil: unknown).
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, precision: Precision = .fp32,
                outputSide: Int? = nil) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3],
                     "conv weight must be [out, in, k, k], got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0, "conv stride must be ≥ 1 and padding ≥ 0")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        kernelSize = weight.shape[2]
        if let bias { precondition(bias.count == outChannels, "conv bias has \(bias.count) values, expected \(outChannels)") }
        self.stride = stride
        self.padding = padding
        self.precision = precision
        self.bias = bias
        method = ConvolutionPolicy.current.method(kernelSize: kernelSize, stride: stride, inChannels: inChannels,
                                                  outChannels: outChannels, outputSide: outputSide, precision: precision)
        if method != .direct {
            prepared = .winograd(WinogradWeight(weight, method: method, precision: precision))
            return
        }
        let k = kernelSize, cin = inChannels, cout = outChannels
        // PyTorch's [out, in, ky, kx] is the transpose of B = [(ky, kx, in), out] up to a
        // reorder of the depth axis; reorder to [out, (ky, kx, in)] and pack it transposed.
        let reordered = Tensor(zeros: [cout, k * k * cin])
        let (src, dst) = (weight.pointer, reordered.pointer)
        Parallel.forChunks(cout) { range in
            for o in range { obc_transpose(src + o * cin * k * k, cin, k * k, dst + o * k * k * cin) }
        }
        prepared = .direct(PackedMatrix(reordered.pointer, rows: k * k * cin, columns: cout,
                                        stride: k * k * cin, transposed: true, precision: precision))
    }

    /// Bytes held by the layer's prepared weights (bias excluded).
    public var byteCount: Int {
        switch prepared {
        case .direct(let packed): packed.byteCount
        case .winograd(let transformed): transformed.byteCount
        }
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
/// `conv(upsample(affine(x)))`. The affine is applied to `x` first (a Winograd gather reads each
/// pixel into 2.25–4 tiles, and recomputing SiLU there measured slower than one pass); the
/// Winograd path reads the upsample as it gathers its tiles, so the 4× larger upsampled input
/// is never stored.
///
/// Layers built for Winograd F(2×2, 3×3) or F(4×4, 3×3) (`Conv2dWeight.method`) run as
/// `winogradConvolution`. Everything else is an implicit GEMM: output pixels
/// are the rows of A and (ky, kx, in) its depth, but A is never built — the GEMM's A-packing
/// step gathers each block straight from the input (zeros where a tap falls in the padding), so
/// the only extra memory is the kernel's per-thread A-block buffer. A 1×1, stride-1, unpadded
/// convolution is exactly a GEMM over the pixels.
public func conv2d(_ x: Tensor, _ w: Conv2dWeight, normalizedBy affine: ChannelAffine? = nil, upsampled: Bool = false,
                   adding residual: Tensor? = nil, addingPerImage imageBias: Tensor? = nil) -> Tensor {
    precondition(x.rank == 4 && x.shape[3] == w.inChannels, "conv2d expects NHWC with \(w.inChannels) channels, got \(x.shape)")
    let up = upsampled ? 1 : 0
    let (n, h, wd, cin) = (x.shape[0], x.shape[1] << up, x.shape[2] << up, x.shape[3])
    let (oh, ow) = w.outputSize(height: h, width: wd)
    precondition(oh > 0 && ow > 0, "conv2d: input \(h)×\(wd) is smaller than the \(w.kernelSize)×\(w.kernelSize) kernel")
    let cout = w.outChannels, k = w.kernelSize
    if let residual { precondition(residual.shape == [n, oh, ow, cout], "conv2d: residual \(residual.shape) is not the output shape") }
    if let imageBias { precondition(imageBias.count == n * cout, "conv2d: per-image bias must be [\(n), \(cout)], got \(imageBias.shape)") }
    let method = w.method
    let fusesUpsample = upsampled && method != .direct && ConvolutionPolicy.fusesUpsample
    if affine != nil || (upsampled && !fusesUpsample) {
        // The implicit GEMM's gather reads x as it is: materialise what it cannot apply.
        var real = affine.map { $0.apply(x) } ?? x
        if upsampled && !fusesUpsample { real = upsampleNearest2x(real) }
        return conv2d(real, w, upsampled: fusesUpsample, adding: residual, addingPerImage: imageBias)
    }
    // One bias row per image: the weights' bias plus the image's vector.
    var bias = w.bias
    if let imageBias { bias = w.bias.map { addRowVector(perImage: imageBias, $0) } ?? imageBias }
    let out = Tensor.kernelOutput([n, oh, ow, cout])
    let direct = n * oh * ow * cout * cin * k * k
    let executed = method.tile.map { m in
        winogradMultiplyAdds(tile: m, tiles: n * ((oh + m - 1) / m) * ((ow + m - 1) / m), inChannels: cin, outChannels: cout)
    } ?? direct
    let label = "conv \(k)×\(k)/\(w.stride) \(oh)×\(ow) \(cin)→\(cout) \(method.rawValue)" + (upsampled ? "+up" : "")
    FLOPMeter.run(.convolution, multiplyAdds: direct, executed: executed, label: label) {
        let biasPointer = bias?.pointer, residualPointer = residual.map { UnsafePointer($0.pointer) }
        switch w.prepared {
        case .winograd(let transformed):
            winogradConvolution(x, upsampled: upsampled, w, transformed, into: out, bias: biasPointer, perImageBias: imageBias != nil, residual: residual)
        case .direct(let packed):
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
            runPackedGEMM(source, m: n * oh * ow, b: packed, c: out.pointer, ldc: cout,
                          bias: biasPointer, biasRows: imageBias == nil ? 0 : oh * ow, addend: residualPointer, ldAddend: cout)
        }
    }
    return out
}

/// A convolution layer's weights as its method multiplies by them.
enum PreparedWeights {
    /// `[kh·kw·in, out]`, packed for the implicit-GEMM kernel.
    case direct(PackedMatrix)
    /// The (m+2)² transformed matrices of Winograd F(m×m, 3×3).
    case winograd(WinogradWeight)
}

/// `rows[b, j] + v[j]` for a small `[batch, c]` matrix (a few thousand values: no threads).
private func addRowVector(perImage rows: Tensor, _ v: Tensor) -> Tensor {
    let out = Tensor.kernelOutput(rows.shape)
    obc_add_row_vector(rows.pointer, v.pointer, out.pointer, rows.count / v.count, Int32(v.count))
    return out
}
