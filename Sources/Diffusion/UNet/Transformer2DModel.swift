import TensorCore

/// diffusers' `Transformer2DModel` (continuous input): GroupNorm (eps 1e-6) → `proj_in` →
/// transformer blocks → `proj_out` → + input. With `use_linear_projection: false` the
/// projections are 1×1 convolutions; in NHWC both are the same GEMM over channels, so both
/// checkpoint layouts load into a `LinearWeight`.
public struct Transformer2DModel: Sendable {
    public let blocks: [BasicTransformerBlock]
    let groups: Int
    let norm: (weight: Tensor, bias: Tensor)
    let projIn: LinearWeight
    let projOut: LinearWeight
    static let eps: Float = 1e-6

    init(_ w: WeightStore, channels: Int, contextDimension: Int, heads: Int, layers: Int, groups: Int, linearProjection: Bool) throws {
        self.groups = groups
        norm = try w.norm("norm", channels: channels)
        projIn = try Self.projection(w, "proj_in", channels: channels, linear: linearProjection)
        blocks = try (0..<layers).map {
            try BasicTransformerBlock(w.scoped("transformer_blocks.\($0)"), channels: channels, contextDimension: contextDimension, heads: heads)
        }
        projOut = try Self.projection(w, "proj_out", channels: channels, linear: linearProjection)
    }

    private static func projection(_ w: WeightStore, _ name: String, channels: Int, linear: Bool) throws -> LinearWeight {
        if linear { return try w.linear(name, in: channels, out: channels) }
        let weight = try w.tensor("\(name).weight", shape: [channels, channels, 1, 1]).reshaped([channels, channels])
        return LinearWeight(weight: weight, bias: try w.tensor("\(name).bias", shape: [channels]), precision: w.precision)
    }

    /// `x` NHWC `[b, h, w, c]`, `context` `[b, tokens, contextDimension]`; returns NHWC.
    public func callAsFunction(_ x: Tensor, context: Tensor, attention: AttentionAccelerator? = nil) -> Tensor {
        let (b, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var t = linear(groupNorm(x, groups: groups, weight: norm.weight, bias: norm.bias, eps: Self.eps), projIn)
            .reshaped([b, h * wd, c])
        for block in blocks { t = block(t, context: context, attention: attention) }
        return linear(t, projOut, adding: x.reshaped([b, h * wd, c])).reshaped([b, h, wd, c])
    }
}
