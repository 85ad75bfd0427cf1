import Foundation

/// Applies `f` to every scalar into a new tensor.
@inline(__always)
func map(_ x: Tensor, macsPerElement: Int = 1, _ f: (Float) -> Float) -> Tensor {
    let out = Tensor(zeros: x.shape)
    FLOPMeter.record(.elementwise, multiplyAdds: macsPerElement * x.count)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forChunks(x.count, minimumChunk: 1 << 14) { r in
        for i in r { out.pointer[i] = f(x.pointer[i]) }
    }
    return out
}

/// x·σ(x).
public func silu(_ x: Tensor) -> Tensor { map(x) { $0 / (1 + expf(-$0)) } }

/// Exact (erf) GELU, as diffusers' GEGLU uses.
public func gelu(_ x: Tensor) -> Tensor { map(x) { 0.5 * $0 * (1 + erff($0 * 0.70710678118654752)) } }

/// CLIP's quick GELU, x·σ(1.702x).
public func quickGelu(_ x: Tensor) -> Tensor { map(x) { $0 / (1 + expf(-1.702 * $0)) } }

/// GEGLU's gating: the last axis is `[value | gate]`; returns `value · gelu(gate)` (half width).
public func geglu(_ x: Tensor) -> Tensor {
    let c2 = x.shape[x.rank - 1], c = c2 / 2, rows = x.count / c2
    var shape = x.shape
    shape[shape.count - 1] = c
    let out = Tensor(zeros: shape)
    FLOPMeter.record(.elementwise, multiplyAdds: rows * c)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forChunks(rows) { r in
        for row in r {
            let p = x.pointer + row * c2, q = out.pointer + row * c
            for j in 0..<c {
                let g = p[c + j]
                q[j] = p[j] * 0.5 * g * (1 + erff(g * 0.70710678118654752))
            }
        }
    }
    return out
}

/// Elementwise `a + b` (same shapes).
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    let out = Tensor(zeros: a.shape)
    FLOPMeter.record(.elementwise, multiplyAdds: a.count)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forChunks(a.count, minimumChunk: 1 << 14) { r in
        for i in r { out.pointer[i] = a.pointer[i] + b.pointer[i] }
    }
    return out
}

/// Elementwise `a·s`.
public func scale(_ a: Tensor, _ s: Float) -> Tensor { map(a) { $0 * s } }

/// `x[b, ..., c] + v[b, c]`: adds a per-batch channel vector (e.g. the time embedding) to a
/// channels-last tensor.
public func addChannelVector(_ x: Tensor, _ v: Tensor) -> Tensor {
    let n = x.shape[0], c = x.shape[x.rank - 1]
    precondition(v.count == n * c, "addChannelVector: vector must be [\(n), \(c)], got \(v.shape)")
    let per = x.count / n
    let out = Tensor(zeros: x.shape)
    FLOPMeter.record(.elementwise, multiplyAdds: x.count)
    if FLOPMeter.isCountOnly { return out }
    Parallel.forEach(n) { b in
        let vb = v.pointer + b * c
        for s in stride(from: 0, to: per, by: c) {
            let p = x.pointer + b * per + s, q = out.pointer + b * per + s
            for j in 0..<c { q[j] = p[j] + vb[j] }
        }
    }
    return out
}

/// Nearest-neighbour ×2 upsampling of an NHWC tensor.
public func upsampleNearest2x(_ x: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(zeros: [n, 2 * h, 2 * w, c])
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
    let out = Tensor(zeros: lead + [total])
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
    let out = Tensor(zeros: [parts.reduce(0) { $0 + $1.shape[0] }] + inner)
    var off = 0
    for p in parts { (out.pointer + off).update(from: p.pointer, count: p.count); off += p.count }
    return out
}

/// `[n, c, h, w]` → `[n, h, w, c]`.
public func nchwToNHWC(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(zeros: [n, h, w, c])
    for b in 0..<n { for ch in 0..<c { for s in 0..<(h * w) {
        out.pointer[(b * h * w + s) * c + ch] = x.pointer[(b * c + ch) * h * w + s]
    } } }
    return out
}

/// `[n, h, w, c]` → `[n, c, h, w]`.
public func nhwcToNCHW(_ x: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(zeros: [n, c, h, w])
    for b in 0..<n { for ch in 0..<c { for s in 0..<(h * w) {
        out.pointer[(b * c + ch) * h * w + s] = x.pointer[(b * h * w + s) * c + ch]
    } } }
    return out
}
