import Foundation

/// How to start an `obclip serve` replica: the same for every replica of a fleet but the port.
public struct ReplicaLaunch: Sendable {
    /// The `obclip` executable.
    public var executable: String
    /// `--model` of `obclip serve` (a diffusers directory or `random:<architecture>`).
    public var model: String
    /// More `obclip serve` flags (`--queue`, limits, `--precision`, …).
    public var arguments: [String]
    /// Environment overrides (e.g. `OBCLIP_THREADS`).
    public var environment: [String: String]
    /// Seconds after which the replica ends itself whatever happens (see `ChildProcess`).
    public var lifetime: Int
    /// Where each replica's log goes (`replica-PORT.log`).
    public var logDirectory: URL

    public init(executable: String, model: String, arguments: [String] = [], environment: [String: String] = [:],
                lifetime: Int, logDirectory: URL) {
        self.executable = executable
        self.model = model
        self.arguments = arguments
        self.environment = environment
        self.lifetime = lifetime
        self.logDirectory = logDirectory
    }
}

/// One `obclip serve` process on a fixed loopback port, which can be killed and started again
/// on the same port (as systemd or Kubernetes would restart it).
public final class Replica: @unchecked Sendable {
    public let port: Int
    public let launch: ReplicaLaunch
    public private(set) var process: ChildProcess?
    /// Seconds to wait for `/healthz` after a start (model loading).
    public var startTimeout: Double = 60

    public init(port: Int, launch: ReplicaLaunch) {
        self.port = port
        self.launch = launch
    }

    /// `http://127.0.0.1:PORT`: the replica itself, bypassing the balancer.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Starts the process and returns once `/healthz` answers. The log file is appended to, so
    /// a restarted replica's log keeps the first run's lines.
    public func start() async throws {
        let log = launch.logDirectory.appendingPathComponent("replica-\(port).log")
        let process = try ChildProcess(
            executable: launch.executable,
            arguments: ["serve", "--model", launch.model, "--host", "127.0.0.1", "--port", "\(port)"] + launch.arguments,
            environment: launch.environment, logFile: log, lifetime: launch.lifetime)
        self.process = process
        do {
            try await LoopbackHTTP.waitUntilOK(url.appendingPathComponent("healthz"), process: process, seconds: startTimeout,
                                               what: "obclip serve on port \(port)")
        } catch {
            await process.killNow()
            throw error
        }
    }

    /// SIGKILL: the replica dies mid-request, as in a crash.
    public func kill() async { await process?.killNow() }

    /// SIGTERM: the server's graceful drain, then SIGKILL after `grace` seconds.
    public func stop(grace: Double = 10) async { await process?.stop(grace: grace) }

    /// The replica's `/metrics` text, or nil when it does not answer.
    public func metrics() async -> String? {
        guard let answer = await LoopbackHTTP.get(url.appendingPathComponent("metrics")), answer.status == 200 else { return nil }
        return answer.body
    }

    /// `obclip_requests_total{outcome="ok"}` of the running process (it restarts from 0).
    public func servedRequests() async -> Int? {
        guard let text = await metrics() else { return nil }
        return PrometheusText.value(of: #"obclip_requests_total{outcome="ok"}"#, in: text).map { Int($0) }
    }

    /// CPU seconds (user + system) the `obclip serve` process has used so far, or nil when it
    /// is not running.
    public func cpuSeconds() -> Double? { process?.programCPUSeconds() }

    /// Peak resident memory of the `obclip serve` process so far, in bytes (nil when not running).
    public func peakResidentBytes() -> Int? { process?.programPeakResidentBytes() }
}
