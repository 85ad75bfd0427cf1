import ArgumentParser
import CloudServer
import Diffusion
import Foundation
import Logging
import TensorCore
import WireProtocol

/// `obclip serve --model DIR`: the cloud half of private generation over HTTP.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the first k denoising steps of a large model for oblivious candidate sets (POST /v1/generate).")

    @Option(help: "Diffusers pipeline directory with unet/ and text_encoder/ (SDXL: also text_encoder_2/; tokenizer/ and scheduler/ optional), or random:<architecture> (e.g. random:sd15, random:sdxl, random:lcm-sdxl) to time a real architecture without weights; SDXL at 1024² needs --max-side 1024.")
    var model: String

    @Option(help: "Address to bind. Without tokens only loopback addresses are allowed.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0 picks a free one).")
    var port = 8080

    @Option(help: "File of accepted bearer tokens, one per line. Default: the comma-separated OBCLIP_TOKENS environment variable.")
    var tokens: String?

    @Option(help: "Requests admitted at once (waiting plus running); more get 429.")
    var queue = 8

    @Option(help: "Most candidates per request (N).")
    var maxCandidates = ServerLimits().maxCandidates

    @Option(help: "Most total steps per request (T).")
    var maxSteps = ServerLimits().maxSteps

    @Option(help: "Most server steps per request (k).")
    var maxSwitchStep = ServerLimits().maxSwitchStep

    @Option(help: "Largest image side in pixels.")
    var maxSide = ServerLimits().maxSide

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = ServerLimits().maxBodyBytes

    @Option(help: "Seconds a graceful shutdown (SIGTERM/SIGINT) keeps finishing admitted requests while answering new ones and /readyz with 503; what is left then gets 503.")
    var drainSeconds = 30.0

    @Option(help: "Seconds a connection may go without delivering a complete header block or body chunk before it is closed.")
    var idleTimeout = 30.0

    @Option(help: "Seconds within which a request body must arrive in full (else 408).")
    var bodyTimeout = 30.0

    @Option(help: "Seconds a response may wait on a client that does not read it before the connection is closed.")
    var writeTimeout = 30.0

    @Option(help: "Most estimated activation memory of one forward pass, in MiB (default: 3/4 of the memory available at start). Larger requests get 422 naming this limit.")
    var maxRequestMemory: Int?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (server certificate first): serve HTTPS, TLS terminated in this process. Needs --tls-key.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Arithmetic of the text encoder and UNet: fp32, f16 (weights stored as halves, f32 math) or bf16 (bf16 weights and activations, AVX512-BF16 dot products).")
    var precision = Precision.fp32

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level '\(logLevel)'") }
        var logger = Logger(label: "obclip.serve")
        logger.logLevel = level
        let access: AccessPolicy
        do { access = try AccessPolicy.load(tokenFile: tokens) } catch { throw ValidationError("\(error)") }
        let limits = ServerLimits(maxCandidates: maxCandidates, maxSteps: maxSteps, maxSwitchStep: maxSwitchStep,
                                  maxSide: maxSide, maxBodyBytes: maxBodyBytes)
        if let tokens, let warning = AccessPolicy.permissionWarning(tokenFile: tokens) { logger.warning("\(warning)") }
        let tls: ServerTLS?
        switch (tlsCertificate, tlsKey) {
        case (nil, nil): tls = nil
        case let (certificate?, key?):
            do { tls = try ServerTLS(certificateFile: certificate, keyFile: key) } catch { throw ValidationError(error.description) }
        default: throw ValidationError("--tls-cert and --tls-key go together")
        }
        let settings = CloudServerSettings(host: host, port: port, limits: limits, queueCapacity: max(1, queue),
                                           drainTimeout: .seconds(drainSeconds), idleTimeout: .seconds(idleTimeout),
                                           bodyReadTimeout: .seconds(bodyTimeout), writeTimeout: .seconds(writeTimeout),
                                           maxRequestMemoryBytes: maxRequestMemory.map { $0 << 20 }, tls: tls)
        // Refuse an unsafe bind before spending time on loading models.
        do { try access.checkBindable(host: host) } catch { throw ValidationError("\(error)") }
        logger.info("loading models", metadata: ["directory": "\(model)", "precision": "\(precision.rawValue)"])
        let models = try ServerModels(source: ModelSource(argument: model), precision: precision)
        let service: CloudService
        do {
            service = try CloudService(backend: ModelBackend(models: models), access: access, settings: settings, logger: logger)
        } catch let error as ServerConfigurationError {
            throw ValidationError(error.description)
        }
        let server = try await RunningCloudServer.start(service, handleSignals: true)
        FileHandle.standardError.write(Data("obclip serve: listening on \(tls == nil ? "http" : "https")://\(host):\(server.port) (SIGTERM or Ctrl-C drains, then stops)\n".utf8))
        try await server.waitUntilStopped()
    }
}
