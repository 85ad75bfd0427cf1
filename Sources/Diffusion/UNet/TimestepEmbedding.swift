import Foundation
import TensorCore

/// diffusers' `Timesteps` + `TimestepEmbedding`: the sinusoidal embedding of each (possibly
/// fractional) timestep, then `linear_1 → SiLU → linear_2` (`time_embedding.*` keys).
public struct TimestepEmbedding: Sendable {
    public let sinusoidDimension: Int
    let flipSinToCos: Bool
    let frequencyShift: Int
    let linear1: LinearWeight
    let linear2: LinearWeight

    init(_ w: WeightStore, sinusoidDimension: Int, embeddingDimension: Int, flipSinToCos: Bool, frequencyShift: Int) throws {
        self.sinusoidDimension = sinusoidDimension
        self.flipSinToCos = flipSinToCos
        self.frequencyShift = frequencyShift
        linear1 = try w.linear("linear_1", in: sinusoidDimension, out: embeddingDimension)
        linear2 = try w.linear("linear_2", in: embeddingDimension, out: embeddingDimension)
    }

    /// `[timesteps.count, sinusoidDimension]`: `get_timestep_embedding`, computed in f32 like
    /// diffusers (frequencies `exp(−ln(10000)·i/(half − shift))`, `[sin | cos]`, flipped to
    /// `[cos | sin]` for SD).
    public func sinusoids(_ timesteps: [Double]) -> Tensor {
        let half = sinusoidDimension / 2
        let out = Tensor(zeros: [timesteps.count, sinusoidDimension])
        let logPeriod = Float(-log(10000.0))
        let frequencies = (0..<half).map { expf(logPeriod * Float($0) / Float(half - frequencyShift)) }
        for (b, t) in timesteps.enumerated() {
            let row = out.pointer + b * sinusoidDimension
            for i in 0..<half {
                let angle = Float(t) * frequencies[i]
                let (first, second) = flipSinToCos ? (cosf(angle), sinf(angle)) : (sinf(angle), cosf(angle))
                row[i] = first
                row[half + i] = second
            }
        }
        return out
    }

    /// The time embedding `[timesteps.count, embeddingDimension]` fed to every resnet.
    public func callAsFunction(_ timesteps: [Double]) -> Tensor {
        linear(silu(linear(sinusoids(timesteps), linear1)), linear2)
    }
}
