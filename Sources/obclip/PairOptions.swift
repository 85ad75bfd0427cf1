import ArgumentParser
import DeviceClient
import Diffusion
import WireProtocol

/// The options of benchmarks that run one private generation setting on a server/device pair.
struct PairOptions: ParsableArguments {
    @Option(help: "Server model: a diffusers directory or random:<architecture>.") var model = "random:sd15"
    @Option(help: "Device model: a diffusers directory or random:<architecture>.") var deviceModel = "random:bk-sdm-small"
    @Option(help: "The prompt (stays on the device in private modes).") var prompt = "a portrait photo of a young woman reading a book in a park"
    @Option(help: "Image side in pixels.") var size = 256
    @Option(help: "Total steps T.") var steps = 25
    @Option(name: .customLong("switch-step"), help: "Server steps k.") var switchStep = 10
    @Option(help: "Scheduler.") var scheduler = "dpm++2m"
    @Option(help: "Classifier-free guidance scale.") var guidance: Float = 7.5
    @Option(help: "Seed of the shared noise.") var seed: UInt64 = 7
    @OptionGroup var deviceSampler: DeviceSamplerArguments

    func settings(_ acceleration: AccelerationOptions) throws -> GenerationSettings {
        GenerationSettings(steps: steps, switchStep: switchStep, scheduler: scheduler, guidanceScale: guidance,
                           width: size, height: size, acceleration: acceleration, deviceSampler: try deviceSampler.sampler())
    }

    var summary: String {
        let device = (try? deviceSampler.sampler())??.description ?? ""
        return "\(size)×\(size), T = \(steps), k = \(switchStep), \(scheduler), guidance \(guidance), seed \(seed)" + device
    }
}
