import Foundation

/// The training noise schedule shared by every scheduler: βₜ and ᾱₜ = ∏(1 − βₛ), computed the way
/// diffusers does (float32 betas from `torch.linspace`, cumulative product accumulated in double
/// by PyTorch's CPU `cumprod` and stored as float32).
struct NoiseSchedule: Sendable {
    let betas: [Float]
    let alphasCumprod: [Float]

    var trainSteps: Int { alphasCumprod.count }

    /// The most training timesteps a config may declare. Published schedulers use 1000; the
    /// bound keeps a hostile or corrupt config from building gigabyte tables for minutes
    /// (found by `scripts/fuzz.sh ModelConfig`: 10⁸ timesteps ran past the 60 s hang limit).
    static let maxTrainSteps = 100_000

    /// Reads `num_train_timesteps`, `beta_start`, `beta_end`, `beta_schedule`, `trained_betas`
    /// with the given class defaults.
    init(config: SchedulerConfig, defaultBetaStart: Double = 0.0001, defaultBetaEnd: Double = 0.02,
         defaultBetaSchedule: String = "linear") throws {
        try config.requireOff("rescale_betas_zero_snr")
        let count = try config.int("num_train_timesteps", default: 1000)
        guard (2...Self.maxTrainSteps).contains(count) else {
            throw SchedulerError.invalidConfigValue(file: config.source, key: "num_train_timesteps",
                                                    reason: "must be in 2...\(Self.maxTrainSteps)")
        }
        let start = try config.double("beta_start", default: defaultBetaStart)
        let end = try config.double("beta_end", default: defaultBetaEnd)
        if let trained = try config.numbers("trained_betas") {
            guard trained.count >= 2, trained.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
                throw SchedulerError.invalidConfigValue(file: config.source, key: "trained_betas",
                                                        reason: "must hold at least 2 values in [0, 1)")
            }
            betas = trained.map { Float($0) }
        } else {
            switch try config.choice("beta_schedule", default: defaultBetaSchedule,
                                     allowed: ["linear", "scaled_linear", "squaredcos_cap_v2"]) {
            case "linear":
                betas = Self.torchLinspace(Float(start), Float(end), count)
            case "scaled_linear":
                betas = Self.torchLinspace(Float(start.squareRoot()), Float(end.squareRoot()), count).map { $0 * $0 }
            default:
                betas = Self.cosineBetas(count)
            }
        }
        guard betas.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
            throw SchedulerError.invalidConfigValue(file: config.source, key: "beta_start/beta_end",
                                                    reason: "give betas outside [0, 1)")
        }
        var product = 1.0
        alphasCumprod = betas.map { beta in
            product *= Double(1 - beta)
            return Float(product)
        }
    }

    /// √((1 − ᾱ)/ᾱ) for every training timestep, in float32 like diffusers' `sigmas` table.
    var trainSigmas: [Float] {
        alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
    }

    /// `torch.linspace(start, end, count, dtype=float32)`: the first half counted up from `start`,
    /// the second half down from `end` (PyTorch's CPU kernel may differ from this by one ulp).
    static func torchLinspace(_ start: Float, _ end: Float, _ count: Int) -> [Float] {
        let step = (end - start) / Float(count - 1)
        return (0..<count).map { i in
            i < count / 2 ? start + step * Float(i) : end - step * Float(count - 1 - i)
        }
    }

    /// diffusers' `betas_for_alpha_bar` with the cosine ᾱ of Nichol & Dhariwal (max β 0.999).
    private static func cosineBetas(_ count: Int) -> [Float] {
        func alphaBar(_ t: Double) -> Double {
            let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
            return c * c
        }
        return (0..<count).map { i in
            let t1 = Double(i) / Double(count), t2 = Double(i + 1) / Double(count)
            return Float(min(1 - alphaBar(t2) / alphaBar(t1), 0.999))
        }
    }
}
