import TensorCore

/// One classifier-free-guided noise prediction in diffusers' order: `model` sees `[x; x]`
/// (against context `[negative; positive]`, which the caller binds) and the result is
/// `ε = ε_u + g·(ε_c − ε_u)`. With `scale` nil the model sees `x` alone and its prediction is
/// used as is.
public func guidedNoise(_ latents: Tensor, scale: Float?, model: (Tensor) throws -> Tensor) rethrows -> Tensor {
    guard let g = scale else { return try model(latents) }
    return guide(try model(concatBatch([latents, latents])), scale: g)
}

/// `ε_u + g·(ε_c − ε_u)` from the stacked `[unconditional; conditional]` prediction.
func guide(_ prediction: Tensor, scale g: Float) -> Tensor {
    let half = prediction.shape[0] / 2
    var shape = prediction.shape
    shape[0] = half
    let out = Tensor(zeros: shape)
    let n = out.count
    FLOPMeter.record(.elementwise, multiplyAdds: n)
    if FLOPMeter.isCountOnly { return out }
    for j in 0..<n {
        let u = prediction.pointer[j], c = prediction.pointer[n + j]
        out.pointer[j] = u + g * (c - u)
    }
    return out
}
