/// diffusers' `timestep_spacing` rules for picking `steps` of the training timesteps.
enum TimestepSpacing: String, CaseIterable {
    case linspace, leading, trailing

    init(config: SchedulerConfig, default fallback: TimestepSpacing) throws {
        self.init(rawValue: try config.choice("timestep_spacing", default: fallback.rawValue,
                                              allowed: Self.allCases.map(\.rawValue)))!
    }

    /// Integer timesteps, descending, as DDIM/PNDM/LCM-style schedulers compute them.
    /// `linspace`: round(linspace(0, T−1, n)); `leading`: arange(n)·(T//n) + offset;
    /// `trailing`: round(arange(T, 0, −T/n)) − 1.
    func discreteTimesteps(steps: Int, trainSteps: Int, offset: Int) -> [Int] {
        switch self {
        case .linspace:
            return Self.numpyLinspace(0, Double(trainSteps - 1), steps).map { Int($0.rounded(.toNearestOrEven)) }.reversed()
        case .leading:
            let ratio = trainSteps / steps
            return (0..<steps).map { $0 * ratio + offset }.reversed()
        case .trailing:
            let ratio = Double(trainSteps) / Double(steps)
            return Self.numpyArangeDown(from: Double(trainSteps), by: ratio).map { Int($0.rounded(.toNearestOrEven)) - 1 }
        }
    }

    /// `np.linspace(start, stop, count)` (endpoint included) in double precision.
    static func numpyLinspace(_ start: Double, _ stop: Double, _ count: Int, endpoint: Bool = true) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(endpoint ? count - 1 : count)
        var values = (0..<count).map { Double($0) * step + start }
        if endpoint { values[count - 1] = stop }
        return values
    }

    /// `np.arange(start, 0, -step)`: start, start − step, … while > 0.
    static func numpyArangeDown(from start: Double, by step: Double) -> [Double] {
        let count = Int((start / step).rounded(.up))
        return (0..<count).map { start - Double($0) * step }
    }
}
