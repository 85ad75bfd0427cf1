/// How a device picks its first step when it continues a latent produced by another sampler —
/// LCM-SDXL on the server hands over after k of its few steps, the device continues with its own
/// scheduler and step count (the paper's timestep shift Δt, METHOD.md §6.4).
///
/// The handed-over latent is a variance-preserving sample at the server scheduler's next
/// timestep t_k (LCM re-noises its x̂₀ to t_k after step k − 1). Both samplers share the training
/// noise schedule, so equal timesteps mean equal noise levels (σ).
public enum HandOffTimestep: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The device step whose timestep is nearest t_k (equal σ up to the device grid).
    case equalNoise
    /// The paper's rule read in device step units: the device starts at step index k + Δt.
    case shift(Int)

    /// `equal-sigma` or `shift:<Δt>` (e.g. `shift:8`, the paper's best setting).
    public init(argument: String) throws {
        if argument == "equal-sigma" { self = .equalNoise; return }
        if argument.hasPrefix("shift:"), let delta = Int(argument.dropFirst("shift:".count)) { self = .shift(delta); return }
        throw SchedulerError.invalidHandOff("'\(argument)' is neither equal-sigma nor shift:<Δt>")
    }

    /// Coded as its argument spelling (`"equal-sigma"`, `"shift:8"`), as reports show it.
    public init(from decoder: Decoder) throws {
        try self.init(argument: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        switch self {
        case .equalNoise: "equal-sigma"
        case .shift(let delta): "shift:\(delta)"
        }
    }

    /// The device's first model call index, given the server's `completedSteps` k, the timestep
    /// `latentTimestep` the handed-over latent sits at, and the device's timesteps. Throws when
    /// the rule leaves no device step.
    public func startIndex(completedSteps k: Int, latentTimestep: Double, deviceTimesteps: [Double]) throws -> Int {
        let index: Int
        switch self {
        case .equalNoise:
            index = deviceTimesteps.indices.min { abs(deviceTimesteps[$0] - latentTimestep) < abs(deviceTimesteps[$1] - latentTimestep) } ?? 0
        case .shift(let delta):
            index = k + delta
        }
        guard deviceTimesteps.indices.contains(index) else {
            throw SchedulerError.invalidHandOff("\(self) after \(k) server steps gives device step \(index), outside 0..<\(deviceTimesteps.count)")
        }
        return index
    }
}
