import Foundation
import WireProtocol

/// Talks to an `obclip serve` server: sends a whole candidate set, retries when the server is
/// overloaded or the connection drops, and returns the response only after validating it
/// against the request. Each attempt is one `HTTPExchange` (bounded in size and time, no
/// redirects, cancelled with its task).
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
    /// Seconds the server may fall silent once its answer has begun.
    public var readTimeout: TimeInterval
    /// The private CA that signed an HTTPS server's certificate; nil trusts the system's roots.
    public var trust: CertificateAuthority?

    public init(server: URL, token: String? = nil, retry: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 3600,
                readTimeout: TimeInterval = HTTPExchange.defaultReadTimeout, trust: CertificateAuthority? = nil) {
        self.server = server
        self.token = token
        self.retry = retry
        self.timeout = timeout
        self.readTimeout = readTimeout
        self.trust = trust
    }

    /// Sends `request` to `/v1/generate`. `progress` receives one line per attempt and wait.
    public func generate(_ request: GenerationRequest, progress: @Sendable (String) -> Void = { _ in }) async throws -> CloudExchange {
        let body = try request.encodedJSON()
        var headers = [("Content-Type", GenerationRequest.contentType)]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }

        let started = Date()
        var bytesSent = 0
        var bytesReceived = 0
        var attempt = 1
        while true {
            progress("sending \(request.candidates.count) candidates to \(server.absoluteString) (attempt \(attempt)/\(retry.maxAttempts))")
            var retryAfter: Double?
            var failure: CloudClientError
            do {
                let answer = try await HTTPExchange.send(.POST, server.appendingPathComponent("v1/generate"), body: body, headers: headers,
                                                         trust: trust, maxBytes: GenerationResponse.maximumEncodedBytes(for: request),
                                                         timeout: timeout, readTimeout: readTimeout)
                bytesSent += body.count
                bytesReceived += answer.body.count
                if answer.status == 200 {
                    let response: GenerationResponse
                    do {
                        response = try ResponseCodec.decode(answer.body)
                        try response.validate(for: request)
                    } catch let error as ResponseError {
                        throw CloudClientError.invalidResponse(error)
                    }
                    return CloudExchange(response: response, requestBytes: body.count, responseBytes: answer.body.count, bytesSent: bytesSent,
                                         bytesReceived: bytesReceived, attempts: attempt, seconds: Date().timeIntervalSince(started))
                }
                if (300..<400).contains(answer.status) {
                    throw CloudClientError.redirected(status: answer.status, location: answer.header("Location"))
                }
                let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: answer.body)
                failure = .refused(status: answer.status, error: envelope?.error)
                guard answer.status == 429 || answer.status == 503 else { throw failure }
                retryAfter = answer.header("Retry-After").flatMap(Double.init)
            } catch CloudClientError.transport(let message) {
                // Lost or refused connections, time-outs, broken HTTP: the set is sent again.
                failure = .transport(message)
                retryAfter = nil
            }
            if attempt >= retry.maxAttempts { throw failure }
            let delay = retry.delay(beforeRetry: attempt, retryAfter: retryAfter)
            progress("\(failure); retrying the whole set in \(String(format: "%.1f", delay)) s")
            try await Task.sleep(for: .seconds(delay))
            attempt += 1
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
    /// The connection could not be made or kept, or the answer did not come in time (after
    /// retries).
    case transport(String)
    /// The TLS handshake failed, most often because the server's certificate is not signed by
    /// an authority the device trusts. Not retried.
    case tls(String)
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
        case let .tls(message):
            "TLS with the server failed: \(message); a server whose certificate comes from a private CA needs that CA (--ca-file)"
        case let .redirected(status, location):
            "server answered HTTP \(status) redirecting to \(location ?? "nowhere"); redirects are not followed (the candidate set goes only to the server given)"
        case let .responseTooLarge(limit): "server response exceeds \(limit) bytes, more than any valid answer to this request; discarded"
        }
    }
}
