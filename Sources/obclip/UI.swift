import ArgumentParser
import CloudServer
import DeviceClient
import DeviceUI
import Diffusion
import Foundation
import Logging
import TensorCore
import WireProtocol

/// `obclip ui`: the browser page for private generation, on 127.0.0.1 only.
struct UI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve a local web page for private generation on 127.0.0.1; prints its URL and opens nothing.")

    @Option(help: "Port on 127.0.0.1 (0: any free port).") var port = 8188
    @Option(help: "Server base URL the page starts with, e.g. http://127.0.0.1:8080.") var server: String?
    @Flag(help: "No server: the page starts in device-only mode.") var local = false
    @Option(help: "Device model: a diffusers directory (unet/, vae/, text_encoder/) or random:<architecture>.") var deviceModel: String?
    @Flag(help: "Also start the bundled demo server in this process, and use the bundled demo models on the device.") var demo = false
    @Option(help: "Directory with demo-server/ and demo-device/ for --demo (default: the bundled Models/).") var models: String?
    @Option(help: "Bearer token the page starts with (default: OBCLIP_TOKEN).") var token: String?
    @OptionGroup var trust: ServerTrustArguments
    @Option(help: "Server architecture the page's FLOP estimate counts on, a diffusers directory or random:<architecture> (default: the demo server's models with --demo, else random:sd15).")
    var costModel: String?

    func validate() throws {
        if server != nil && local { throw ValidationError("--server and --local exclude each other") }
        if demo && (server != nil || local) { throw ValidationError("--demo starts its own server; leave out --server and --local") }
        if demo && deviceModel != nil { throw ValidationError("--demo uses the bundled demo device models; leave out --device-model") }
        if !demo && deviceModel == nil { throw ValidationError("--device-model is needed (or --demo)") }
        if !demo && models != nil { throw ValidationError("--models only applies with --demo") }
    }

    func run() async throws {
        let authority = try trust.authority()
        var demoServer: RunningCloudServer?
        let deviceModels: DeviceModelSource
        let cost: any ServerCostCounting
        var serverURL = server ?? ""
        if demo {
            let directory = models.map { URL(fileURLWithPath: $0) } ?? DemoModels.bundledDirectory
            let pair = try DemoModels.trained(in: directory)
            let running = try await pair.startLoopbackServer()
            demoServer = running
            serverURL = "http://127.0.0.1:\(running.port)"
            stderr("demo server listening on \(serverURL) (loopback only, no tokens), \(pair.source)")
            let deviceDirectory = directory.appendingPathComponent("demo-device")
            deviceModels = DeviceModelSource(description: "bundled demo device models") { precision in
                precision == .fp32 ? pair.device : try DeviceModels(source: .directory(deviceDirectory), precision: precision)
            }
            cost = BackendCostCounter(model: costModel ?? "the demo server's models") {
                try costModel.map { try ServerModels(source: ModelSource(argument: $0)) } ?? pair.server
            }
        } else {
            let source = try ModelSource(argument: deviceModel!)
            deviceModels = DeviceModelSource(description: deviceModel!) { try DeviceModels(source: source, precision: $0) }
            let architecture = costModel ?? "random:sd15"
            cost = BackendCostCounter(model: architecture) { try ServerModels(source: ModelSource(argument: architecture)) }
        }
        let defaults = UISettings(
            server: local ? "" : serverURL, token: token ?? ProcessInfo.processInfo.environment["OBCLIP_TOKEN"] ?? "",
            mode: local ? GenerationMode.deviceOnly.rawValue : GenerationMode.obclip.rawValue, steps: 25, switchStep: 10,
            scheduler: SchedulerKind.default.rawValue, guidance: 7.5, negativePrompt: "", seed: "", width: demo ? 64 : 512,
            height: demo ? 64 : 512, accelerations: [], precision: Precision.fp32.rawValue, taxonomy: "default",
            dpSubset: false, dpEpsilon: 1, dpSubsetSize: 2)
        var logger = Logger(label: "obclip.ui")
        logger.logLevel = .notice
        do {
            let service = try await DeviceUIService(configuration: DeviceUIConfiguration(
                port: port, defaultSettings: defaults, local: local, demo: demo, deviceModels: deviceModels, costCounting: cost,
                trust: authority))
            let ui = try await RunningDeviceUI.start(service, logger: logger, handleSignals: true)
            print("obclip ui: \(ui.url)")
            fflush(stdout)
            stderr("listening on 127.0.0.1 only; Ctrl-C stops it")
            try await ui.waitUntilStopped()
        } catch {
            try? await demoServer?.shutdown()
            throw error
        }
        try await demoServer?.shutdown()
    }
}

/// The page's server-cost estimate: the cloud server's own backend run under a count-only FLOP
/// meter — what `obclip bench flops` counts — on a server model built on first use.
final class BackendCostCounter: ServerCostCounting, @unchecked Sendable {
    let model: String
    private let build: () throws -> ServerModels
    private let lock = NSLock()
    private var backend: ModelBackend?

    init(model: String, build: @escaping () throws -> ServerModels) {
        self.model = model
        self.build = build
    }

    func multiplyAdds(for request: GenerationRequest) async throws -> Int64 {
        let backend = try lock.withLock { () throws -> ModelBackend in
            if let built = self.backend { return built }
            let built = ModelBackend(models: try build())
            self.backend = built
            return built
        }
        return try await FLOPMeter(countOnly: true).measure {
            try await backend.generate([request], observer: BatchObserver.none)[0].accounting.executedMultiplyAdds
        }
    }
}
