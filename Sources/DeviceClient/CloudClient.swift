import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import WireProtocol

/// Talks to an `obclip serve` server: sends a whole candidate set, retries when the server is
/// overloaded or the connection drops, and returns the response only after validating it
/// against the request.
///
/// Retries resend the identical request body (all N candidates, same seed): the server sees the
/// same thing again, never a narrowed set.
public struct CloudClient: Sendable {
    public var server: URL
    public var token: String?
    public var retry: RetryPolicy
    /// Seconds to wait for the server's answer to one attempt.
    public var timeout: TimeInterval

    public init(server: URL, token: String? = nil, retry: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 3600) {
        self.server = server
        self.token = token
        self.retry = retry
        self.timeout = timeout
    }

    /// Sends `request` to `/v1/generate`. `progress` receives one line per attempt and wait.
    public func generate(_ request: GenerationRequest, progress: @Sendable (String) -> Void = { _ in }) async throws -> CloudExchange {
        let body = try request.encodedJSON()
        var urlRequest = URLRequest(url: server.appendingPathComponent("v1/generate"))
        urlRequest.httpMethod = "POST"
        urlRequest.httpBody = body
        urlRequest.timeoutInterval = timeout
        urlRequest.setValue(GenerationRequest.contentType, forHTTPHeaderField: "Content-Type")
        if let token { urlRequest.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }

        let started = Date()
        var bytesSent = 0
        var bytesReceived = 0
        var attempt = 1
        while true {
            progress("sending \(request.candidates.count) candidates to \(server.absoluteString) (attempt \(attempt)/\(retry.maxAttempts))")
            var retryAfter: Double?
            var failure: CloudClientError
            do {
                let (data, http) = try await Self.send(urlRequest)
                bytesSent += body.count
                bytesReceived += data.count
                if http.statusCode == 200 {
                    let response: GenerationResponse
                    do {
                        response = try ResponseCodec.decode(data)
                        try response.validate(for: request)
                    } catch let error as ResponseError {
                        throw CloudClientError.invalidResponse(error)
                    }
                    return CloudExchange(response: response, requestBytes: body.count, responseBytes: data.count, bytesSent: bytesSent,
                                         bytesReceived: bytesReceived, attempts: attempt, seconds: Date().timeIntervalSince(started))
                }
                let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: data)
                failure = .refused(status: http.statusCode, error: envelope?.error)
                guard http.statusCode == 429 || http.statusCode == 503 else { throw failure }
                retryAfter = http.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init)
            } catch let error as URLError {
                failure = .transport("\(error.code.rawValue): \(error.localizedDescription)")
                guard Self.isRetryable(error) else { throw failure }
                retryAfter = nil
            }
            if attempt >= retry.maxAttempts { throw failure }
            let delay = retry.delay(beforeRetry: attempt, retryAfter: retryAfter)
            progress("\(failure); retrying the whole set in \(String(format: "%.1f", delay)) s")
            try await Task.sleep(for: .seconds(delay))
            attempt += 1
        }
    }

    private static func isRetryable(_ error: URLError) -> Bool {
        [.networkConnectionLost, .cannotConnectToHost, .timedOut, .notConnectedToInternet, .cannotFindHost,
         .dnsLookupFailed, .badServerResponse].contains(error.code)
    }

    /// One HTTP exchange; cancelling the calling task cancels the transfer (closing the
    /// connection, which the server sees as the client going away).
    static func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let box = TaskBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>) in
                let task = URLSession.shared.dataTask(with: request) { data, response, error in
                    if let error {
                        continuation.resume(throwing: (error as? URLError)?.code == .cancelled ? CancellationError() : error)
                    } else if let http = response as? HTTPURLResponse {
                        continuation.resume(returning: (data ?? Data(), http))
                    } else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                    }
                }
                box.set(task)
                task.resume()
            }
        } onCancel: {
            box.cancel()
        }
    }
}

/// Holds a URLSession task so a cancellation arriving from another thread can reach it.
private final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionTask?
    private var cancelled = false

    func set(_ task: URLSessionTask) {
        let cancelNow = lock.withLock { () -> Bool in
            self.task = task
            return cancelled
        }
        if cancelNow { task.cancel() }
    }

    func cancel() {
        let task = lock.withLock { () -> URLSessionTask? in
            cancelled = true
            return self.task
        }
        task?.cancel()
    }
}

/// The result of one successful exchange with the server.
public struct CloudExchange: Sendable {
    /// Validated against the request that was sent.
    public var response: GenerationResponse
    /// Size of one request body.
    public var requestBytes: Int
    /// Size of the accepted response body.
    public var responseBytes: Int
    /// Request bytes over all attempts that reached the server.
    public var bytesSent: Int
    /// Response bytes over all attempts.
    public var bytesReceived: Int
    public var attempts: Int
    /// Wall-clock seconds from the first attempt to the validated response.
    public var seconds: Double
}

/// Why the exchange failed.
public enum CloudClientError: Error, CustomStringConvertible {
    /// The server answered with an error status (after retries, for 429/503).
    case refused(status: Int, error: ErrorEnvelope.Detail?)
    /// The server's 200 body failed validation; it was not used.
    case invalidResponse(ResponseError)
    /// The connection could not be made or kept (after retries where that made sense).
    case transport(String)

    public var description: String {
        switch self {
        case let .refused(status, error):
            if let error { "server refused the request (HTTP \(status), \(error.kind)\(error.field.map { " in \($0)" } ?? "")): \(error.message)" }
            else { "server refused the request (HTTP \(status))" }
        case let .invalidResponse(error): error.description
        case let .transport(message): "cannot reach the server: \(message)"
        }
    }
}
