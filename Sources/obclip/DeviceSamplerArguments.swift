import ArgumentParser
import DeviceClient
import Diffusion

/// The device's own sampler after an LCM server (`generate`, `bench modes`): off unless
/// `--device-scheduler` is given.
struct DeviceSamplerArguments: ParsableArguments {
    @Option(name: .customLong("device-scheduler"), help: "Continue the server's latent with this scheduler on the device (e.g. dpm++2m after --scheduler lcm); default: resume the server's own scheduler.")
    var deviceScheduler: String?

    @Option(name: .customLong("device-steps"), help: "The device scheduler's step count (with --device-scheduler).")
    var deviceSteps = 25

    @Option(name: .customLong("device-guidance"), help: "The device's classifier-free guidance scale (with --device-scheduler; the LCM server takes --guidance as its w-embedding).")
    var deviceGuidance: Float = 7.5

    @Option(name: .customLong("handoff"), help: "The device's first step after the hand-off: equal-sigma (the device step whose timestep is nearest the latent's) or shift:<Δt> (device step k + Δt, the paper's rule; it reports Δt = 8 best for k = 4 of 8 LCM steps).")
    var handOff = HandOffTimestep.equalNoise.description

    /// The sampler, or nil when the device resumes the server's scheduler.
    func sampler() throws -> DeviceSampler? {
        guard let deviceScheduler else { return nil }
        _ = try SchedulerKind(name: deviceScheduler)
        guard deviceSteps >= 1 else { throw ValidationError("--device-steps must be ≥ 1") }
        return DeviceSampler(scheduler: deviceScheduler, steps: deviceSteps, guidanceScale: deviceGuidance,
                             firstStep: try HandOffTimestep(argument: handOff))
    }
}
