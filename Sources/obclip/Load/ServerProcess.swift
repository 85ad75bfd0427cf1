import Foundation
import LoopbackFleet
#if canImport(Glibc)
import Glibc
#endif

/// An `obclip serve` child process on loopback, for the load and fault harness: real process
/// boundaries, so it can be SIGKILLed, SIGTERMed and restarted, and its memory and threads read
/// from /proc. Everything it logs (stderr) is kept for the log audit.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let output: LogBuffer

    /// Starts `executable serve --host 127.0.0.1 --port port arguments…` and waits until it
    /// prints its listening line (port 0 picks a free port, read from that line).
    init(executable: URL, port: Int = 0, arguments: [String], logs: LogBuffer = LogBuffer(), startTimeout: Double = 120) throws {
        output = logs
        process.executableURL = executable
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port)] + arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { logs.append(data) }
        }
        let mark = logs.count
        try process.run()
        let deadline = Date().addingTimeInterval(startTimeout)
        while true {
            let marker = "listening on http://127.0.0.1:"
            let text = logs.since(mark)
            if let range = text.range(of: marker), let bound = Int(text[range.upperBound...].prefix(while: \.isNumber)) {
                self.port = bound
                return
            }
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                throw HarnessError("server did not start listening; its output:\n\(logs.since(mark))")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to exit; returns its status, or nil at the timeout.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return process.terminationStatus
    }

    /// A field of /proc/PID/status in its unit (kB for memory), e.g. `VmHWM`, `VmRSS`, `Threads`.
    func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }
    }

    /// Open file descriptors (sockets included).
    var openFiles: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    /// The server's `/metrics` value of `series` (e.g. `obclip_queue_depth`).
    func metric(_ series: String) async throws -> Double {
        let (data, _) = try await LoopbackHTTP.get(url.appendingPathComponent("metrics"))
        guard let value = PrometheusText.value(of: series, in: String(decoding: data, as: UTF8.self)) else {
            throw HarnessError("no metric \(series)")
        }
        return value
    }

    func stop() {
        if process.isRunning { signal(SIGKILL) }
        _ = waitForExit(timeout: 10)
    }
}

/// Everything a child process wrote, appended as it arrives.
final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    var count: Int { lock.withLock { data.count } }
    var bytes: Data { lock.withLock { data } }
    func since(_ offset: Int) -> String { lock.withLock { String(decoding: data[offset...], as: UTF8.self) } }
}

/// A harness step that could not run as planned (not a finding about the server).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
