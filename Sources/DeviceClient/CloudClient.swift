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
    /// Seconds one attempt may take in all, queueing and generation included (a server that
    /// drips its answer is cut off here).
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
                let (data, http) = try await Self.send(urlRequest, maxBytes: GenerationResponse.maximumEncodedBytes(for: request))
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
                if (300..<400).contains(http.statusCode) {
                    throw CloudClientError.redirected(status: http.statusCode, location: http.value(forHTTPHeaderField: "Location"))
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

    /// One HTTP exchange, bounded: the body may not exceed `maxBytes` (checked against
    /// `Content-Length` and while it streams in), the whole exchange may not take longer than
    /// the request's `timeoutInterval` (so a server that drips its answer cannot hold the device
    /// forever), and redirects are not followed (the 3xx comes back as the answer: the candidate
    /// set goes only where the user pointed it). Nothing is cached or stored on disk.
    /// Cancelling the calling task cancels the transfer (closing the connection, which the
    /// server sees as the client going away).
    static func send(_ request: URLRequest, maxBytes: Int = .max) async throws -> (Data, HTTPURLResponse) {
        let transfer = BoundedTransfer(maxBytes: maxBytes)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.start(request, continuation: continuation)
            }
        } onCancel: {
            transfer.cancel(with: CancellationError())
        }
    }
}

/// One URLSession data task with a byte cap, an overall deadline and no redirects; resumes its
/// continuation exactly once.
private final class BoundedTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let maxBytes: Int
    private let lock = NSLock()
    private var continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>?
    private var task: URLSessionTask?
    private var session: URLSession?
    private var body = Data()
    private var response: HTTPURLResponse?
    /// Why the transfer was stopped early, reported instead of URLSession's own "cancelled".
    private var stopReason: Error?

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    func start(_ request: URLRequest, continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>) {
        let session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        let task = session.dataTask(with: request)
        let alreadyStopped = lock.withLock { () -> Error? in
            self.continuation = continuation
            self.session = session
            self.task = task
            return stopReason
        }
        if let alreadyStopped {
            finish(.failure(alreadyStopped))
            return
        }
        let deadline = request.timeoutInterval
        DispatchQueue.global().asyncAfter(deadline: .now() + deadline) { [weak self] in
            self?.cancel(with: URLError(.timedOut, userInfo: [NSLocalizedDescriptionKey: "no complete answer within \(deadline) s"]))
        }
        task.resume()
    }

    /// Stops the transfer and reports `reason` (first reason wins).
    func cancel(with reason: Error) {
        let task = lock.withLock { () -> URLSessionTask? in
            if stopReason == nil { stopReason = reason }
            return self.task
        }
        task?.cancel()
    }

    private func finish(_ result: Result<(Data, HTTPURLResponse), Error>) {
        let (continuation, session) = lock.withLock { () -> (CheckedContinuation<(Data, HTTPURLResponse), Error>?, URLSession?) in
            defer { self.continuation = nil; self.session = nil; self.task = nil }
            return (self.continuation, self.session)
        }
        session?.finishTasksAndInvalidate()
        continuation?.resume(with: result)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if response.expectedContentLength > Int64(maxBytes) {
            cancel(with: CloudClientError.responseTooLarge(limit: maxBytes))
            completionHandler(.cancel)
            return
        }
        lock.withLock { self.response = response as? HTTPURLResponse }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let overLimit = lock.withLock { () -> Bool in
            body.append(data)
            return body.count > maxBytes
        }
        if overLimit { cancel(with: CloudClientError.responseTooLarge(limit: maxBytes)) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (reason, response, body) = lock.withLock { (stopReason, self.response ?? task.response as? HTTPURLResponse, self.body) }
        if let reason {
            finish(.failure(reason))
        } else if let error {
            finish(.failure(error))
        } else if let response {
            finish(.success((body, response)))
        } else {
            finish(.failure(URLError(.badServerResponse)))
        }
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
    /// The server answered with a redirect, which is not followed.
    case redirected(status: Int, location: String?)
    /// The answer was larger than any valid response to the request could be.
    case responseTooLarge(limit: Int)

    public var description: String {
        switch self {
        case let .refused(status, error):
            if let error { "server refused the request (HTTP \(status), \(error.kind)\(error.field.map { " in \($0)" } ?? "")): \(error.message)" }
            else { "server refused the request (HTTP \(status))" }
        case let .invalidResponse(error): error.description
        case let .transport(message): "cannot reach the server: \(message)"
        case let .redirected(status, location):
            "server answered HTTP \(status) redirecting to \(location ?? "nowhere"); redirects are not followed (the candidate set goes only to the server given)"
        case let .responseTooLarge(limit): "server response exceeds \(limit) bytes, more than any valid answer to this request; discarded"
        }
    }
}
