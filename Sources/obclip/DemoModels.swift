import CloudServer
import DeviceClient
import Diffusion
import Foundation
import Logging
import WireProtocol

/// The server/device model pair `obclip demo` and `obclip eval` run: the trained demo models
/// committed under `Models/` (found next to the package sources, so a fresh clone needs no
/// download), or the random tiny models when asked.
struct DemoModels {
    let server: ServerModels
    let device: DeviceModels
    /// Where the models came from, for the user.
    let source: String

    /// The portrait the demo models draw by default: three sensitive attributes (gender, age,
    /// ethnicity: N = 30 candidates) in the world's phrasing, the background named first to show
    /// that the clause order is free. `obclip demo`, `bench scale` and `bench load` send its
    /// candidate set; the `obclip ui` page shows it as its placeholder.
    static let prompt = "on a blue background, a portrait of an old Asian woman with glasses in a red shirt"

    /// `Models/` of the checkout this executable was built from.
    static var bundledDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Models", isDirectory: true)
    }

    /// Loads `demo-server/` and `demo-device/` from `directory` (default: the bundled ones).
    static func trained(in directory: URL = bundledDirectory) throws -> DemoModels {
        let server = directory.appendingPathComponent("demo-server"), device = directory.appendingPathComponent("demo-device")
        return DemoModels(server: try ServerModels(source: .directory(server)), device: try DeviceModels(source: .directory(device)),
                          source: "trained demo models in \(directory.path)")
    }

    /// A cloud server on a free loopback port running `server`, without tokens.
    func startLoopbackServer() async throws -> RunningCloudServer {
        try await startLoopbackCloudServer(server, logLevel: .notice)
    }

    /// The random tiny models (noise images; the protocol is real).
    static func tiny() throws -> DemoModels {
        let models = try TinyModels(seed: 0)
        return DemoModels(server: ServerModels(tokenizer: models.tokenizer, textEncoder: models.textEncoder,
                                               unet: models.serverUNet, schedulerConfig: models.schedulerConfig),
                          device: models.device, source: "tiny models with random weights (the image is noise)")
    }

    /// Tiny random SDXL-family models: the LCM-SDXL-shaped server UNet and the KOALA-shaped device.
    static func tinyLCMSDXL() throws -> DemoModels {
        let models = try TinySDXLModels(seed: 0)
        return DemoModels(server: ServerModels(promptEncoder: models.promptEncoder, unet: models.lcmUNet, schedulerConfig: models.schedulerConfig),
                          device: models.device, source: "tiny SDXL-family models with random weights: LCM-SDXL-shaped server, KOALA-shaped device (the image is noise)")
    }
}

/// A cloud server for `models` on a free loopback port, without tokens (loopback only).
func startLoopbackCloudServer(_ models: ServerModels, limits: ServerLimits = ServerLimits(), logLevel: Logger.Level) async throws -> RunningCloudServer {
    var logger = Logger(label: "obclip.loopback.server")
    logger.logLevel = logLevel
    let service = try CloudService(backend: ModelBackend(models: models), access: AccessPolicy(tokens: []),
                                   settings: CloudServerSettings(host: "127.0.0.1", port: 0, limits: limits), logger: logger)
    return try await RunningCloudServer.start(service)
}
