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

/// One `obclip serve` process on a loopback port, which can be killed and started again on the
/// same port (as systemd or Kubernetes would restart it).
public final class Replica: @unchecked Sendable {
    /// The port it listens on. Created with port 0, the server picks a free one at its first
    /// start (read from its listening line); restarts reuse it.
    public private(set) var port: Int
    public let launch: ReplicaLaunch
    public private(set) var process: ChildProcess?
    /// Where the replica's output goes, every start appended (`replica-PORT.log`, or a unique
    /// name when the port is chosen at start).
    public let logFile: URL
    /// Seconds to wait for `/healthz` after a start (model loading).
    public var startTimeout: Double = 60

    public init(port: Int, launch: ReplicaLaunch) {
        self.port = port
        self.launch = launch
        logFile = launch.logDirectory.appendingPathComponent("replica-\(port == 0 ? UUID().uuidString : String(port)).log")
    }

    /// `http://127.0.0.1:PORT`: the replica itself, bypassing the balancer.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Starts the process and returns once `/healthz` answers. The log file is appended to, so
    /// a restarted replica's log keeps the first run's lines.
    public func start() async throws {
        let logged = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
        let process = try ChildProcess(
            executable: launch.executable,
            arguments: ["serve", "--model", launch.model, "--host", "127.0.0.1", "--port", "\(port)"] + launch.arguments,
            environment: launch.environment, logFile: logFile, lifetime: launch.lifetime)
        self.process = process
        do {
            if port == 0 { port = try await Self.listeningPort(process, after: logged, seconds: startTimeout) }
            try await LoopbackHTTP.waitUntilOK(url.appendingPathComponent("healthz"), process: process, seconds: startTimeout,
                                               what: "obclip serve on port \(port)")
        } catch {
            await process.killNow()
            throw error
        }
    }

    /// The port of `obclip serve`'s listening line, written after byte `offset` of its log.
    private static func listeningPort(_ process: ChildProcess, after offset: Int, seconds: Double) async throws -> Int {
        let marker = "listening on http://127.0.0.1:"
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, process.isRunning {
            let text = process.log.utf8.dropFirst(offset)
            if let line = String(text)?.split(separator: "\n").first(where: { $0.contains(marker) }),
               let range = line.range(of: marker), let port = Int(line[range.upperBound...].prefix(while: \.isNumber)) {
                return port
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FleetError.notReady(what: "obclip serve (port chosen at start)", seconds: seconds, log: process.log)
    }

    /// SIGKILL: the replica dies mid-request, as in a crash.
    public func kill() async { await process?.killNow() }

    /// SIGTERM: the server's graceful drain, then SIGKILL after `grace` seconds.
    public func stop(grace: Double = 10) async { await process?.stop(grace: grace) }

    /// SIGTERM, returning at once: the drain itself is what the caller watches.
    public func terminate() { process?.terminate() }

    /// The replica's `/metrics` text, or nil when it does not answer.
    public func metrics() async -> String? {
        guard let answer = await LoopbackHTTP.get(url.appendingPathComponent("metrics")), answer.status == 200 else { return nil }
        return answer.body
    }

    /// The value of one `/metrics` sample (e.g. `obclip_queue_depth`), or nil when the replica
    /// does not answer or has no such sample.
    public func metric(_ series: String) async -> Double? {
        await metrics().flatMap { PrometheusText.value(of: series, in: $0) }
    }

    /// `obclip_requests_total{outcome="ok"}` of the running process (it restarts from 0).
    public func servedRequests() async -> Int? {
        await metric(#"obclip_requests_total{outcome="ok"}"#).map { Int($0) }
    }

    /// CPU seconds (user + system) the `obclip serve` process has used so far, or nil when it
    /// is not running.
    public func cpuSeconds() -> Double? { process?.programCPUSeconds() }

    /// Peak resident memory of the `obclip serve` process so far, in bytes (nil when not running).
    public func peakResidentBytes() -> Int? { process?.programPeakResidentBytes() }
}
