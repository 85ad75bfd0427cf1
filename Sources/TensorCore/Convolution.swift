/// 2-D convolution weights, given as PyTorch stores them (`[out, in, kh, kw]`), repacked once.
public final class Conv2dWeight: @unchecked Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// `[kh, kw, in, out]`: for each tap, a `[in, out]` GEMM operand.
    let taps: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3],
                     "conv weight must be [out, in, k, k], got \(weight.shape)")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        kernelSize = weight.shape[2]
        self.stride = stride
        self.padding = padding
        let k = kernelSize
        let t = Tensor(zeros: [k, k, inChannels, outChannels])
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                for y in 0..<k {
                    for x in 0..<k {
                        t.pointer[((y * k + x) * inChannels + i) * outChannels + o] =
                            weight.pointer[((o * inChannels + i) * k + y) * k + x]
                    }
                }
            }
        }
        taps = t
        self.bias = bias
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }
}

/// Convolution of an NHWC tensor; returns NHWC. Zero padding.
public func conv2d(_ x: Tensor, _ w: Conv2dWeight) -> Tensor {
    precondition(x.rank == 4 && x.shape[3] == w.inChannels, "conv2d expects NHWC with \(w.inChannels) channels, got \(x.shape)")
    let (n, h, wd, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = w.outputSize(height: h, width: wd)
    let cout = w.outChannels, k = w.kernelSize
    let out = Tensor(zeros: [n, oh, ow, cout])
    FLOPMeter.record(.convolution, multiplyAdds: n * oh * ow * cout * cin * k * k)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forEach(n * oh) { row in
        let b = row / oh, oy = row % oh
        for ox in 0..<ow {
            let o = out.pointer + ((b * oh + oy) * ow + ox) * cout
            if let bias = w.bias { o.update(from: bias.pointer, count: cout) }
            for ky in 0..<k {
                let iy = oy * w.stride - w.padding + ky
                if iy < 0 || iy >= h { continue }
                for kx in 0..<k {
                    let ix = ox * w.stride - w.padding + kx
                    if ix < 0 || ix >= wd { continue }
                    let src = x.pointer + ((b * h + iy) * wd + ix) * cin
                    let tap = w.taps.pointer + (ky * k + kx) * cin * cout
                    for c in 0..<cin {
                        let v = src[c]
                        let wr = tap + c * cout
                        for j in 0..<cout { o[j] += v * wr[j] }
                    }
                }
            }
        }
    }
    return out
}
