import ArgumentParser
import CloudServer
import DeviceClient
import Diffusion
import Foundation
import TensorCore
import WireProtocol

/// `obclip bench modes`: one prompt generated end to end over loopback HTTP in each evaluation
/// mode (and optionally with the server's accelerations), with server and device seconds and
/// FLOPs side by side — the cost of privacy against Hybrid SD and vanilla oblivious generation.
struct BenchModes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modes",
        abstract: "Time a private generation in each mode over loopback HTTP and print server/device seconds and FLOPs.")

    @OptionGroup var pair: PairOptions
    @Option(help: "Modes in order, comma-separated; `obclip+accelerated` is obclip with the method's reuse, cache and skip.")
    var modes = "obclip,obclip+accelerated,hybrid,vanilla-oblivious"
    @Option(help: "Arithmetic of both sides' models: fp32, f16 (weights stored as halves) or bf16 (bf16 weights and activations; halves an SDXL pair's memory).")
    var precision = Precision.fp32

    func run() async throws {
        let runs = try modes.split(separator: ",").map { name -> (String, GenerationMode, AccelerationOptions) in
            let parts = name.split(separator: "+", maxSplits: 1).map(String.init)
            guard let mode = GenerationMode(rawValue: parts[0]), parts.count == 1 || parts[1] == "accelerated" else {
                throw ValidationError("unknown mode '\(name)'; one of \(GenerationMode.allCases.map(\.rawValue).joined(separator: ", ")), optionally +accelerated")
            }
            return (String(name), mode, parts.count == 2 ? .method(switchStep: pair.switchStep) : .off)
        }
        stderr("loading \(pair.model) (server) and \(pair.deviceModel) (device)")
        let device = try DeviceModels(source: ModelSource(argument: pair.deviceModel), precision: precision)
        let server = try await startLoopbackCloudServer(try ServerModels(source: ModelSource(argument: pair.model), precision: precision),
                                                        limits: ServerLimits(maxSide: max(pair.size, ServerLimits().maxSide)), logLevel: .warning)
        let generator = HybridGenerator(device: device, cloud: CloudClient(server: URL(string: "http://127.0.0.1:\(server.port)")!))
        var rows: [[String]] = []
        do {
            for (name, mode, acceleration) in runs {
                stderr("running \(name)")
                let report = try await generator.generate(prompt: pair.prompt, mode: mode, settings: try pair.settings(acceleration),
                                                          seed: pair.seed) { stderr("  \($0)") }.report
                let serverSeconds = report.server.map { ($0.phaseSeconds["textEncoding"] ?? 0) + ($0.phaseSeconds["denoising"] ?? 0) }
                let deviceSeconds = ["denoising", "decoding"].reduce(0) { $0 + (report.device.phaseSeconds[$1] ?? 0) }
                rows.append([name, "\(report.candidatesSent)", "\(report.serverModelCalls)", serverSeconds.map(format) ?? "–",
                             report.server.map { format($0.executedFLOPs / 1e12) } ?? "–", "\(report.device.modelCalls)",
                             format(deviceSeconds), format(report.device.executedFLOPs / 1e12),
                             report.wire.map { "\($0.requestBytes) / \($0.responseBytes)" } ?? "–", format(report.totalSeconds)])
            }
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
        print("\(pair.model) server + \(pair.deviceModel) device, \(pair.summary), \(precision.rawValue), threads \(Parallel.threads)")
        print("server s = text encoding + denoising; device s = denoising + VAE decode; FLOPs executed (2 × multiply-adds)")
        let header = ["mode", "N sent", "server steps", "server s", "server TFLOP", "device steps", "device s", "device TFLOP", "request / response bytes", "total s"]
        for row in [header] + rows { print(row.joined(separator: " | ")) }
    }
}
