import Foundation
import TensorCore

/// diffusers' `Timesteps` (`get_timestep_embedding`): the sinusoidal embedding of each (possibly
/// fractional) value, computed in f32 like diffusers — frequencies `exp(−ln(10000)·i/(half − shift))`,
/// `[sin | cos]`, flipped to `[cos | sin]` for SD. Used for the timestep (`time_proj`) and for
/// SDXL's micro-conditioning ids (`add_time_proj`).
public struct SinusoidalEmbedding: Sendable {
    public let dimension: Int
    let flipSinToCos: Bool
    let frequencyShift: Int

    init(dimension: Int, flipSinToCos: Bool, frequencyShift: Int) {
        self.dimension = dimension
        self.flipSinToCos = flipSinToCos
        self.frequencyShift = frequencyShift
    }

    /// `[values.count, dimension]`.
    public func callAsFunction(_ values: [Double]) -> Tensor {
        let half = dimension / 2
        let out = Tensor(zeros: [values.count, dimension])
        let logPeriod = Float(-log(10000.0))
        let frequencies = (0..<half).map { expf(logPeriod * Float($0) / Float(half - frequencyShift)) }
        for (b, t) in values.enumerated() {
            let row = out.pointer + b * dimension
            for i in 0..<half {
                let angle = Float(t) * frequencies[i]
                let (first, second) = flipSinToCos ? (cosf(angle), sinf(angle)) : (sinf(angle), cosf(angle))
                row[i] = first
                row[half + i] = second
            }
        }
        return out
    }
}

/// diffusers' `TimestepEmbedding`: `linear_1 → SiLU → linear_2` on an input vector, with an
/// optional `cond_proj` (no bias) whose projection of a condition vector is added to the input
/// first — LCM's guidance-scale ("w") embedding (`time_cond_proj_dim`).
public struct TimestepEmbedding: Sendable {
    public let inputDimension: Int
    let linear1: LinearWeight
    let linear2: LinearWeight
    let conditionProjection: LinearWeight?

    init(_ w: WeightStore, inputDimension: Int, embeddingDimension: Int, conditionDimension: Int? = nil) throws {
        self.inputDimension = inputDimension
        linear1 = try w.linear("linear_1", in: inputDimension, out: embeddingDimension)
        linear2 = try w.linear("linear_2", in: embeddingDimension, out: embeddingDimension)
        conditionProjection = try conditionDimension.map { try w.linear("cond_proj", in: $0, out: inputDimension, bias: false) }
    }

    /// `[rows, embeddingDimension]` for `sample` `[rows, inputDimension]` (and `condition`
    /// `[rows, conditionDimension]` when the layer has `cond_proj`; ignored otherwise, as diffusers does).
    public func callAsFunction(_ sample: Tensor, condition: Tensor? = nil) -> Tensor {
        var x = sample
        if let conditionProjection, let condition { x = linear(condition, conditionProjection, adding: sample) }
        return linear(silu(linear(x, linear1)), linear2)
    }
}
