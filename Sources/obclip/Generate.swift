import ArgumentParser
import DeviceClient
import Diffusion
import Foundation
import Privacy
import TensorCore
import WireProtocol

/// `obclip generate "prompt" --server URL --device-model DIR`: private hybrid generation.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an image privately: the server runs the first k steps on every candidate, this device finishes its own.")

    @Argument(help: "The prompt. It never leaves this machine in obclip mode: only its candidate set does.")
    var prompt: String

    @Option(help: "Server base URL, e.g. http://127.0.0.1:8080 (not needed with --mode device-only).")
    var server: String?

    @Option(help: "Device model: a diffusers directory (unet/, vae/, text_encoder/; SDXL's also text_encoder_2/) or random:<architecture> (e.g. random:bk-sdm-small, random:koala-700m) for timing.")
    var deviceModel: String

    @Option(help: "Bearer token for the server (default: OBCLIP_TOKEN).")
    var token: String?

    @OptionGroup var trust: ServerTrustArguments

    @Option(help: "obclip | hybrid | vanilla-oblivious | server-only | device-only")
    var mode = GenerationMode.obclip.rawValue

    @Option(help: "Total denoising steps T.") var steps = 25
    @Option(name: .customLong("switch-step"), help: "Server steps k.") var switchStep = 10
    @Option(help: "Scheduler (\(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))).") var scheduler = "dpm++2m"
    @Option(help: "Classifier-free guidance scale.") var guidance: Float = 7.5
    @Option(help: "Negative prompt (sent to the server as is).") var negativePrompt = ""
    @Option(help: "Image width in pixels (multiple of 64).") var width = 512
    @Option(help: "Image height in pixels (multiple of 64).") var height = 512
    @OptionGroup var micro: MicroConditioningArguments
    @OptionGroup var acceleration: AccelerationArguments
    @OptionGroup var deviceSampler: DeviceSamplerArguments
    @Option(help: "Output PNG path; the JSON report goes next to it.") var output = "obclip.png"
    @Option(help: "Arithmetic of the device's models: fp32, f16 (weights stored as halves) or bf16 (bf16 weights and activations).")
    var precision = Precision.fp32

    @Option(name: .customLong("dp-epsilon"), help: "DP subset mode: privacy budget ε (needs --subset).")
    var dpEpsilon: Double?

    @Option(help: "DP subset mode: send only this many of the N candidates (M < N).")
    var subset: Int?

    func validate() throws {
        if (dpEpsilon == nil) != (subset == nil) { throw ValidationError("--dp-epsilon and --subset go together") }
    }

    func run() async throws {
        let mode = try validated { try GenerationChoices.mode(named: self.mode) }
        var cloud = try validated {
            try GenerationChoices.cloudClient(server: server, token: token ?? ProcessInfo.processInfo.environment["OBCLIP_TOKEN"], mode: mode)
        }
        cloud?.trust = try trust.authority()
        let settings = GenerationSettings(steps: steps, switchStep: switchStep, scheduler: scheduler, guidanceScale: guidance,
                                          negativePrompt: negativePrompt, width: width, height: height,
                                          acceleration: try acceleration.options(switchStep: switchStep),
                                          microConditioning: try micro.microConditioning(width: width, height: height),
                                          deviceSampler: try deviceSampler.sampler())
        stderr("loading the device model from \(deviceModel)")
        let device = try DeviceModels(source: ModelSource(argument: deviceModel), precision: precision)
        let mechanism = try dpEpsilon.map { epsilon in
            do { return try SubsetMechanism(epsilon: epsilon, subsetSize: subset!) } catch let error as PrivacyError { throw ValidationError(error.description) }
        }
        let outcome = try await HybridGenerator(device: device, cloud: cloud)
            .generate(prompt: prompt, mode: mode, settings: settings, subset: mechanism) { stderr($0.description) }
        try GenerationOutput.write(outcome, to: output)
    }
}

/// Writing a generation's image and report, shared by `generate` and `demo`.
enum GenerationOutput {
    /// Writes the PNG (no metadata: nothing that could carry the prompt) and `<name>.json`.
    static func write(_ outcome: HybridGenerator.Outcome, to output: String) throws {
        let png = URL(fileURLWithPath: output)
        try PNGEncoder.write(outcome.image.slice(0, 1), to: png)
        let reportURL = png.deletingPathExtension().appendingPathExtension("json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(outcome.report).write(to: reportURL)
        stderr("wrote \(png.path) and \(reportURL.path)")
    }
}

/// Progress and status go to stderr so stdout stays clean for data.
func stderr(_ line: String) {
    FileHandle.standardError.write(Data("\(line)\n".utf8))
}
