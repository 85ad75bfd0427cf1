import TensorCore

/// Elementwise float32 arithmetic on latents for the solver update rules.
///
/// Each closure receives scalars in the same order as the tensors and evaluates the update with
/// the operation order diffusers' tensor expressions use, so results agree to a few ulp.
enum LatentArithmetic {
    static func map(_ a: Tensor, _ body: (Float) -> Float) -> Tensor {
        let out = Tensor(zeros: a.shape)
        for i in 0..<a.count { out.pointer[i] = body(a.pointer[i]) }
        return out
    }

    static func map(_ a: Tensor, _ b: Tensor, _ body: (Float, Float) -> Float) -> Tensor {
        precondition(a.shape == b.shape, "latent shapes differ: \(a.shape) vs \(b.shape)")
        let out = Tensor(zeros: a.shape)
        for i in 0..<a.count { out.pointer[i] = body(a.pointer[i], b.pointer[i]) }
        return out
    }

    static func map(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ body: (Float, Float, Float) -> Float) -> Tensor {
        precondition(a.shape == b.shape && a.shape == c.shape, "latent shapes differ: \(a.shape), \(b.shape), \(c.shape)")
        let out = Tensor(zeros: a.shape)
        for i in 0..<a.count { out.pointer[i] = body(a.pointer[i], b.pointer[i], c.pointer[i]) }
        return out
    }

    static func map(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor,
                    _ body: (Float, Float, Float, Float) -> Float) -> Tensor {
        precondition([b.shape, c.shape, d.shape].allSatisfy { $0 == a.shape }, "latent shapes differ")
        let out = Tensor(zeros: a.shape)
        for i in 0..<a.count { out.pointer[i] = body(a.pointer[i], b.pointer[i], c.pointer[i], d.pointer[i]) }
        return out
    }
}
