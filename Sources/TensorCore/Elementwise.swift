import CKernels

/// Elements per parallel chunk for streaming kernels: below this a thread hand-off costs more
/// than the work.
let elementwiseChunk = 1 << 15

/// Applies a C activation to every scalar into a new tensor.
func activation(_ x: Tensor, _ act: Int32) -> Tensor {
    let out = Tensor.kernelOutput(x.shape)
    FLOPMeter.run(.elementwise, multiplyAdds: x.count) {
        let (src, dst) = (x.pointer, out.pointer)
        Parallel.forChunks(x.count, minimumChunk: elementwiseChunk) { r in
            obc_activation(src + r.lowerBound, dst + r.lowerBound, r.count, act)
        }
    }
    return out
}

/// x·σ(x).
public func silu(_ x: Tensor) -> Tensor { activation(x, Int32(OBC_ACT_SILU)) }

/// Exact (erf) GELU, as diffusers' GEGLU uses.
public func gelu(_ x: Tensor) -> Tensor { activation(x, Int32(OBC_ACT_GELU)) }

/// CLIP's quick GELU, x·σ(1.702x).
public func quickGelu(_ x: Tensor) -> Tensor { activation(x, Int32(OBC_ACT_QUICK_GELU)) }

/// GEGLU's gating: the last axis is `[value | gate]`; returns `value · gelu(gate)` (half width).
public func geglu(_ x: Tensor) -> Tensor {
    let c2 = x.shape[x.rank - 1], c = c2 / 2, rows = x.count / Swift.max(c2, 1)
    precondition(c2 % 2 == 0, "geglu: last axis \(c2) is not even")
    var shape = x.shape
    shape[shape.count - 1] = c
    let out = Tensor.kernelOutput(shape)
    FLOPMeter.run(.elementwise, multiplyAdds: rows * c) {
        let (src, dst) = (x.pointer, out.pointer)
        Parallel.forChunks(rows, minimumChunk: Swift.max(1, elementwiseChunk / Swift.max(c, 1))) { r in
            obc_geglu(src + r.lowerBound * c2, dst + r.lowerBound * c, r.count, Int32(c))
        }
    }
    return out
}

/// Elementwise `a + b` (same shapes).
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    let out = Tensor.kernelOutput(a.shape)
    FLOPMeter.run(.elementwise, multiplyAdds: a.count) {
        let (pa, pb, dst) = (a.pointer, b.pointer, out.pointer)
        Parallel.forChunks(a.count, minimumChunk: elementwiseChunk) { r in
            obc_add(pa + r.lowerBound, pb + r.lowerBound, dst + r.lowerBound, r.count)
        }
    }
    return out
}

/// Elementwise `a·s`.
public func scale(_ a: Tensor, _ s: Float) -> Tensor {
    let out = Tensor.kernelOutput(a.shape)
    FLOPMeter.run(.elementwise, multiplyAdds: a.count) {
        let (src, dst) = (a.pointer, out.pointer)
        Parallel.forChunks(a.count, minimumChunk: elementwiseChunk) { r in
            obc_scale(src + r.lowerBound, s, dst + r.lowerBound, r.count)
        }
    }
    return out
}

/// Nearest-neighbour ×2 upsampling of an NHWC tensor.
public func upsampleNearest2x(_ x: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor.kernelOutput([n, 2 * h, 2 * w, c])
    if FLOPMeter.isCountOnly { return out }
    Parallel.forEach(n * 2 * h) { row in
        let b = row / (2 * h), oy = row % (2 * h)
        let src = x.pointer + (b * h + oy / 2) * w * c
        let dst = out.pointer + row * 2 * w * c
        for ox in 0..<(2 * w) { (dst + ox * c).update(from: src + (ox / 2) * c, count: c) }
    }
    return out
}

/// Concatenation along the last axis (channels in NHWC); leading shapes must agree.
public func concatLastAxis(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty)
    let lead = Array(parts[0].shape.dropLast())
    for p in parts { precondition(Array(p.shape.dropLast()) == lead, "concat: leading shapes differ") }
    let widths = parts.map { $0.shape.last! }, total = widths.reduce(0, +)
    let rows = lead.reduce(1, *)
    let out = Tensor.kernelOutput(lead + [total])
    if FLOPMeter.isCountOnly { return out }
    Parallel.forChunks(rows) { r in
        for row in r {
            var off = 0
            for (p, w) in zip(parts, widths) {
                (out.pointer + row * total + off).update(from: p.pointer + row * w, count: w)
                off += w
            }
        }
    }
    return out
}

/// Concatenation along the first (batch) axis.
public func concatBatch(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty)
    let inner = Array(parts[0].shape.dropFirst())
    for p in parts { precondition(Array(p.shape.dropFirst()) == inner, "concatBatch: inner shapes differ") }
    let out = Tensor.kernelOutput([parts.reduce(0) { $0 + $1.shape[0] }] + inner)
    var off = 0
    for p in parts { (out.pointer + off).update(from: p.pointer, count: p.count); off += p.count }
    return out
}

/// `[n, c, h, w]` → `[n, h, w, c]`.
public func nchwToNHWC(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor.kernelOutput([n, h, w, c])
    let (src, dst) = (x.pointer, out.pointer)
    Parallel.forEach(n) { b in obc_transpose(src + b * c * h * w, c, h * w, dst + b * c * h * w) }
    return out
}

/// `[n, h, w, c]` → `[n, c, h, w]`.
public func nhwcToNCHW(_ x: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor.kernelOutput([n, c, h, w])
    let (src, dst) = (x.pointer, out.pointer)
    Parallel.forEach(n) { b in obc_transpose(src + b * c * h * w, h * w, c, dst + b * c * h * w) }
    return out
}
