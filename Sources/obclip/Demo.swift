import ArgumentParser
import CloudServer
import DeviceClient
import Foundation
import PortraitWorld
import WireProtocol

/// `obclip demo`: a private generation against an in-process loopback server, showing what
/// crosses the wire.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a private generation end to end on loopback with the bundled demo models and show what crossed the wire.")

    @Argument(help: "The prompt (default: a portrait with three sensitive attributes — gender, age, ethnicity: N = 30 candidates — which the demo models can draw, its clauses in any order).")
    var prompt = DemoModels.prompt

    @Option(help: "Output PNG path; the JSON report goes next to it.")
    var output = "obclip-demo.png"

    @Option(help: "Image side in pixels (multiple of 64; the demo models are trained at 64).")
    var size = 64

    @Option(help: "Directory with demo-server/ and demo-device/ (default: the bundled Models/).")
    var models: String?

    @Flag(help: "Use the random tiny models instead (noise images, the same protocol).")
    var tiny = false

    @Flag(help: "Use tiny random SDXL-family models with the paper's LCM-SDXL setting: LCM 8 steps on the server, hand-off after k = 4 to the KOALA-shaped device's 25-step DPM-Solver++ at the equal-σ step (noise images).")
    var tinyLcmSdxl = false

    @Option(help: "Seed of the generation (default: fresh from the system CSPRNG, as a user gets).")
    var seed: UInt64?

    func run() async throws {
        let models = tinyLcmSdxl ? try DemoModels.tinyLCMSDXL()
            : tiny ? try DemoModels.tiny() : try DemoModels.trained(in: models.map { URL(fileURLWithPath: $0) } ?? DemoModels.bundledDirectory)
        stderr("models: \(models.source)")
        let server = try await models.startLoopbackServer()
        stderr("server listening on http://127.0.0.1:\(server.port) (loopback only, no tokens)")

        let settings = tinyLcmSdxl
            ? GenerationSettings(steps: 8, switchStep: 4, scheduler: "lcm", guidanceScale: 2, width: size, height: size,
                                 deviceSampler: DeviceSampler(scheduler: "dpm++2m", steps: 25, guidanceScale: 7.5, firstStep: .equalNoise))
            : GenerationSettings(steps: 25, switchStep: 10, scheduler: "dpm++2m", guidanceScale: 7.5, width: size, height: size)
        if let device = settings.deviceSampler { stderr("settings: \(settings.scheduler) \(settings.steps) steps, k = \(settings.switchStep), w = \(settings.guidanceScale)" + device.description) }
        let generator = HybridGenerator(device: models.device, cloud: CloudClient(server: URL(string: "http://127.0.0.1:\(server.port)")!))
        let outcome: HybridGenerator.Outcome
        do {
            outcome = try await generator.generate(prompt: prompt, mode: .obclip, settings: settings,
                                                   seed: seed ?? GenerationSettings.freshSeed()) { stderr("  \($0)") }
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()

        let set = outcome.candidateSet
        print("prompt (stays on this device): \(prompt)")
        print("\ncandidate set sent to the server (N = \(set.candidates.count), canonical order):")
        for (i, candidate) in set.candidates.enumerated() { print("  [\(i)] \(candidate)") }
        print("  the device keeps index \(set.realIndex) to itself")
        if let request = outcome.request {
            let body = String(decoding: try request.encodedJSON(), as: UTF8.self)
            print("\ndevice → server: POST /v1/generate, \(body.utf8.count) bytes of JSON:")
            print("  " + (body.count > 600 ? body.prefix(600) + "…" : body))
        }
        print("\nserver → device: one safetensors body, \(outcome.report.wire?.responseBytes ?? 0) bytes:")
        for (name, shape) in outcome.responseTensors.sorted(by: { $0.key < $1.key }) { print("  \(name) \(shape)") }
        print("  then the device dropped every latent but its own")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print("\nreport:\n" + String(decoding: try encoder.encode(outcome.report), as: UTF8.self))
        try GenerationOutput.write(outcome, to: output)
        if !tiny, !tinyLcmSdxl, size == PortraitLayout.size {
            let read = try AttributeChecker.read(RGBImage(outcome.image))
            print("\nthe attribute checker reads from \(output): \(read.gender.rawValue), \(read.age.rawValue), \(read.ethnicity.rawValue) (skin tone), "
                  + "\(read.shirt.rawValue) shirt, \(read.background.rawValue) background, accessory \(read.accessory.rawValue)")
        }
    }
}
