import Foundation
import Logging
import NIOHTTP1
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// Log lines captured from a server, to check what it writes.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    var logger: Logger {
        var logger = Logger(label: "obclip.test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }
}

private struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append("\(event.level) \(event.message) \(all.map { "\($0)=\($1)" }.sorted().joined(separator: " "))")
    }
}

/// A cloud server on 127.0.0.1 with an ephemeral port.
struct LoopbackServer {
    let running: RunningCloudServer
    let logs: LogCapture

    static func start(backend: any GenerationBackend, tokens: Set<String> = [], settings: CloudServerSettings = CloudServerSettings())
        async throws -> LoopbackServer {
        var settings = settings
        settings.host = "127.0.0.1"
        settings.port = 0
        let logs = LogCapture()
        let service = try CloudService(backend: backend, access: AccessPolicy(tokens: tokens), settings: settings, logger: logs.logger)
        return LoopbackServer(running: try await RunningCloudServer.start(service), logs: logs)
    }

    var url: URL { URL(string: "http://127.0.0.1:\(running.port)")! }

    /// One raw exchange: status, body and headers.
    func post(_ body: Data, path: String = "v1/generate", token: String? = nil, contentType: String = "application/json")
        async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
        var headers = [("Content-Type", contentType)]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let answer = try await HTTPExchange.send(.POST, url.appendingPathComponent(path), body: body, headers: headers, timeout: 60)
        return (answer.status, answer.body, answer.headers)
    }

    func get(_ path: String) async throws -> (status: Int, text: String) {
        let answer = try await HTTPExchange.send(.GET, url.appendingPathComponent(path), timeout: 60)
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    func shutdown() async throws { try await running.shutdown() }
}

extension HTTPHeaders {
    /// The first value of header `name`, spelt as the assertions written against URLSession's
    /// `HTTPURLResponse` spell it.
    func value(forHTTPHeaderField name: String) -> String? { first(name: name) }
}

extension Data {
    /// The `error` object of an error body, if it is one.
    var errorDetail: ErrorEnvelope.Detail? { (try? JSONDecoder().decode(ErrorEnvelope.self, from: self))?.error }
}
