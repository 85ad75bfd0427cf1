import ArgumentParser
import CloudServer
import DeviceClient
import Foundation
import Logging
import WireProtocol

/// `obclip demo`: a private generation against an in-process loopback server, showing what
/// crosses the wire.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a private generation end to end on loopback with bundled tiny models and show what crossed the wire.")

    @Argument(help: "The prompt (default: a built-in one with sensitive attributes).")
    var prompt = "a photo of an old Indian woman reading a newspaper in a cafe"

    @Option(help: "Output PNG path; the JSON report goes next to it.")
    var output = "obclip-demo.png"

    @Option(help: "Image side in pixels (multiple of 64).")
    var size = 128

    func run() async throws {
        stderr("building the tiny demo models (random weights: the image is noise, the protocol is real)")
        let models = try TinyModels(seed: 0)
        var logger = Logger(label: "obclip.demo.server")
        logger.logLevel = .notice
        let service = try CloudService(
            backend: ModelBackend(models: ServerModels(tokenizer: models.tokenizer, textEncoder: models.textEncoder,
                                                       unet: models.serverUNet, schedulerConfig: models.schedulerConfig)),
            access: AccessPolicy(tokens: []), settings: CloudServerSettings(host: "127.0.0.1", port: 0), logger: logger)
        let server = try await RunningCloudServer.start(service)
        stderr("server listening on http://127.0.0.1:\(server.port) (loopback only, no tokens)")

        let settings = GenerationSettings(steps: 10, switchStep: 4, scheduler: "dpm++2m", width: size, height: size)
        let generator = HybridGenerator(device: models.device, cloud: CloudClient(server: URL(string: "http://127.0.0.1:\(server.port)")!))
        let outcome: HybridGenerator.Outcome
        do {
            outcome = try await generator.generate(prompt: prompt, mode: .obclip, settings: settings) { stderr("  " + $0) }
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
    }
}
