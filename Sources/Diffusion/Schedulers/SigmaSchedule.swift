import Foundation

/// The σ-space helpers of diffusers' Euler and DPM-Solver schedulers: σ(t) = √((1 − ᾱₜ)/ᾱₜ)
/// interpolated at fractional timesteps, Karras et al.'s ρ = 7 spacing, and σ → t inversion.
enum SigmaSchedule {
    /// `np.interp(t, arange(count), table)` in double precision.
    static func interpolate(_ table: [Float], at t: Double) -> Double {
        if t <= 0 { return Double(table[0]) }
        let last = table.count - 1
        if t >= Double(last) { return Double(table[last]) }
        let j = Int(t.rounded(.down))
        let slope = Double(table[j + 1]) - Double(table[j])
        return slope * (t - Double(j)) + Double(table[j])
    }

    /// `_convert_to_karras`: `count` σ from σ_max to σ_min evenly spaced in σ^(1/ρ), ρ = 7.
    static func karras(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
        let rho = 7.0
        let minInvRho = pow(sigmaMin, 1 / rho), maxInvRho = pow(sigmaMax, 1 / rho)
        return TimestepSpacing.numpyLinspace(0, 1, count).map { ramp in
            pow(maxInvRho + ramp * (minInvRho - maxInvRho), rho)
        }
    }

    /// `_sigma_to_t`: the fractional training timestep whose log σ matches, by linear
    /// interpolation in the log-σ table (`logSigmas` ascending in t).
    static func timestep(forSigma sigma: Double, logSigmas: [Float]) -> Double {
        let logSigma = log(max(sigma, 1e-10))
        // Index of the last table entry with log σ ≤ the target (argmax of the cumulative count).
        var count = 0
        var low = 0
        for (i, entry) in logSigmas.enumerated() where logSigma - Double(entry) >= 0 {
            count += 1
            low = i
        }
        if count == 0 { low = 0 }
        low = min(low, logSigmas.count - 2)
        let lowValue = Double(logSigmas[low]), highValue = Double(logSigmas[low + 1])
        let w = min(max((lowValue - logSigma) / (lowValue - highValue), 0), 1)
        return (1 - w) * Double(low) + w * Double(low + 1)
    }
}
