import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One bounded HTTP exchange on the process's single AsyncHTTPClient `HTTPClient`: the device's
/// generation requests, the load harness's and the fleet's probes all go through here.
///
/// Bounds, because the device talks to a server it does not trust:
/// - the body may not exceed `maxBytes` (checked against `Content-Length` and while it streams
///   in; the transfer stops at the bound instead of buffering what a hostile server sends);
/// - connecting may take 10 s (`connectTimeout`);
/// - once the answer's head has come, the server may fall silent for at most `readTimeout`
///   (before the head it is computing, which is bounded by the attempt deadline only);
/// - the whole exchange may take at most `timeout`, so a server that drips its answer cannot hold
///   the device forever;
/// - redirects are not followed (the 3xx comes back as the answer: the candidate set goes only
///   where the user pointed it);
/// - each exchange has a connection of its own (`Connection: close`), like the ephemeral
///   sessions it replaces: nothing is pooled across servers or tests, and a restarted server
///   is met on a fresh connection.
///
/// Cancelling the calling task cancels the transfer: AsyncHTTPClient closes the connection, which
/// the server sees as the client going away. Nothing is cached or written to disk.
public enum HTTPExchange {
    /// The process's one client, made on first use.
    private static let shared = SharedClient()

    /// Connection set-up, TCP and TLS, per attempt.
    static let connectTimeout: TimeAmount = .seconds(10)
    /// Seconds of silence allowed once an answer has begun, unless a caller says otherwise.
    public static let defaultReadTimeout: TimeInterval = 60

    fileprivate static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(tlsConfiguration: CertificateAuthority.tlsConfiguration(trusting: nil),
                                                     redirectConfiguration: .disallow,
                                                     timeout: .init(connect: connectTimeout))
        // A failed connection fails the attempt at once; `RetryPolicy` decides about retries,
        // and a certificate the device does not trust is reported, not retried for 10 s.
        configuration.connectionPool.retryConnectionEstablishment = false
        // One connection per exchange: the load harness and the scale-out test are many devices
        // in one process, and must reach the server side by side, not 8 at a time.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        return configuration
    }

    /// Stops the shared client, if it was made, closing whatever it still holds; `obclip` calls
    /// this when its command is done. An exchange after it makes a new client.
    public static func shutdown() async throws {
        try await shared.take()?.shutdown()
    }

    /// Sends one request and returns the whole answer, within the bounds above. Errors are
    /// `CloudClientError.transport` (connection, time-out, malformed HTTP: worth a retry),
    /// `.tls` (handshake or certificate), `.responseTooLarge`, or `CancellationError`.
    public static func send(_ method: HTTPMethod, _ url: URL, body: Data? = nil, headers: [(String, String)] = [],
                            trust: CertificateAuthority? = nil, maxBytes: Int = .max, timeout: TimeInterval,
                            readTimeout: TimeInterval = defaultReadTimeout) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(contentsOf: headers)
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        if let trust { request.tlsConfiguration = CertificateAuthority.tlsConfiguration(trusting: trust) }
        let watch = ArrivalWatch(timeout: timeout, readTimeout: readTimeout)
        do {
            return try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                group.addTask { try await receive(request, maxBytes: maxBytes, watch: watch) }
                group.addTask { try await watch.expire() }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch {
            throw Task.isCancelled ? CancellationError() : failure(error)
        }
    }

    /// The exchange proper: the head (AsyncHTTPClient's own deadline would stop at the head, so
    /// `ArrivalWatch` keeps the time instead), then the body, streamed up to `maxBytes`.
    private static func receive(_ request: HTTPClientRequest, maxBytes: Int, watch: ArrivalWatch) async throws -> HTTPAnswer {
        let response = try await shared.client.execute(request, deadline: .distantFuture)
        watch.bytesArrived()
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBytes {
            throw CloudClientError.responseTooLarge(limit: maxBytes)
        }
        var body = ByteBuffer()
        for try await chunk in response.body {
            watch.bytesArrived()
            guard body.readableBytes + chunk.readableBytes <= maxBytes else { throw CloudClientError.responseTooLarge(limit: maxBytes) }
            body.writeImmutableBuffer(chunk)
        }
        return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    /// The device's error for what the exchange threw.
    private static func failure(_ error: Error) -> Error {
        switch error {
        case is CloudClientError, is CancellationError: error
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError: CloudClientError.tls("\(error)")
        default: CloudClientError.transport("\(error)")
        }
    }
}

/// Holds the shared client: made on first use, handed over once for shutdown.
private final class SharedClient: @unchecked Sendable {
    private let lock = NSLock()
    private var made: HTTPClient?

    var client: HTTPClient {
        lock.withLock {
            if let made { return made }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPExchange.configuration)
            made = client
            return client
        }
    }

    func take() -> HTTPClient? {
        lock.withLock {
            defer { made = nil }
            return made
        }
    }
}

/// A whole HTTP answer: status, headers and the body as received.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    /// The first value of header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Keeps an exchange's clocks: the attempt deadline from the start, and the read time-out from
/// the last bytes that arrived once the head is in. `expire()` throws when either runs out.
private final class ArrivalWatch: @unchecked Sendable {
    private let deadline: ContinuousClock.Instant
    private let timeout: TimeInterval
    private let readTimeout: TimeInterval
    private let lock = NSLock()
    private var lastArrival: ContinuousClock.Instant?

    init(timeout: TimeInterval, readTimeout: TimeInterval) {
        self.deadline = .now + .seconds(timeout)
        self.timeout = timeout
        self.readTimeout = readTimeout
    }

    func bytesArrived() { lock.withLock { lastArrival = .now } }

    /// Sleeps until the deadline or the read time-out passes, then throws a transport error
    /// naming which; throws `CancellationError` if cancelled first (the exchange finished).
    func expire() async throws -> HTTPAnswer {
        while true {
            let silentUntil = lock.withLock { lastArrival.map { $0 + .seconds(readTimeout) } }
            let now = ContinuousClock.now
            if now >= deadline { throw CloudClientError.transport("no complete answer within \(timeout) s") }
            if let silentUntil, now >= silentUntil {
                throw CloudClientError.transport("the server stopped sending its answer for \(readTimeout) s")
            }
            // Before the head, look again a read time-out later: bytes may have come meanwhile.
            try await Task.sleep(until: min(deadline, silentUntil ?? now + .seconds(readTimeout)), clock: .continuous)
        }
    }
}
