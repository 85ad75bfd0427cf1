import Foundation
import Hummingbird
import Logging
import WireProtocol

/// The HTTP face of the cloud server: routes, authentication, limits, and the mapping from
/// failures to status codes. Generation itself goes through `GenerationQueue` to the backend.
///
/// Logging rule: log lines carry request ids, counts, sizes, timings and outcomes — never a
/// candidate prompt, the negative prompt, a bearer token, or an error message that could quote
/// one. Every line about a request carries Hummingbird's `hb.request.id`, which the response
/// returns as `X-Request-ID` so an operator can find a client's request in the logs.
public struct CloudService: Sendable {
    public let settings: CloudServerSettings
    public let access: AccessPolicy
    public let metrics: ServerMetrics
    public let queue: GenerationQueue
    let backend: any GenerationBackend
    let logger: Logger
    /// Activation bytes one forward pass may need; larger requests are refused (422, `memory`).
    public let memoryLimitBytes: Int

    /// Fails when the configuration is unsafe (an open server on a non-loopback host).
    public init(backend: any GenerationBackend, access: AccessPolicy, settings: CloudServerSettings, logger: Logger) throws {
        try access.checkBindable(host: settings.host)
        self.backend = backend
        self.access = access
        self.settings = settings
        self.logger = logger
        let metrics = ServerMetrics()
        metrics.setQueueCapacity(settings.queueCapacity)
        self.metrics = metrics
        memoryLimitBytes = settings.maxRequestMemoryBytes ?? MachineMemory.availableBytes() / 4 * 3
        queue = GenerationQueue(backend: backend, capacity: settings.queueCapacity,
                                maxBatchCandidates: settings.maxBatchCandidates, maxBatchMemoryBytes: memoryLimitBytes,
                                batchWindow: settings.batchWindow, metrics: metrics, logger: logger)
    }

    /// The router serving `/v1/generate`, `/healthz`, `/readyz` and `/metrics`.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            if await queue.hasRoom { return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ready\n"))) }
            let draining = await queue.isDraining
            return errorResponse(.serviceUnavailable, kind: .overloaded, field: draining ? "server" : "queue",
                                 draining ? "server is shutting down" : "queue is full", retryAfter: true)
        }
        router.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.post("v1/generate") { request, context in
            var response = await generate(request, logger: context.logger)
            response.headers[.init(Self.requestIDHeader)!] = context.id
            // Watching for the client going away (consumeWithCancellationOnInboundClose) means
            // Hummingbird closes the connection after this response; say so, or a client or
            // proxy that reuses the connection sends its next request into a closing socket.
            response.headers[.connection] = "close"
            return response
        }
        return router
    }

    /// The response header carrying the request's log id.
    public static let requestIDHeader = "X-Request-ID"

    private func generate(_ request: Request, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        guard access.authorizes(authorizationHeader: request.headers[.authorization]) else {
            return refuse(.unauthorized, .unauthorized, field: "authorization", "missing or unknown bearer token", logger: logger)
        }
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix(GenerationRequest.contentType) {
            return refuse(.unsupportedMediaType, .invalid, field: "content-type", "expected \(GenerationRequest.contentType), got \(type)", logger: logger)
        }
        let maxBytes = settings.limits.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            return refuse(.contentTooLarge, .payloadTooLarge, field: "body", "\(length) bytes exceed the limit of \(maxBytes)", logger: logger)
        }
        do {
            // The whole exchange runs under the inbound-close handler: when the client goes away,
            // the task is cancelled, which takes the request out of the queue.
            return try await request.body.consumeWithCancellationOnInboundClose { body in
                var bytes = Data()
                // A stalled body is closed by the connection's idle timeout; a dripping one here.
                let bodyDeadline = started + settings.bodyReadTimeout
                for try await chunk in body {
                    bytes.append(contentsOf: chunk.readableBytesView)
                    guard bytes.count <= maxBytes else { throw BodyTooLarge() }
                    guard ContinuousClock.now <= bodyDeadline else { throw BodyTooSlow() }
                }
                let generation = try GenerationRequest.decode(json: bytes)
                try generation.validate(against: settings.limits, knownSchedulers: backend.knownSchedulers,
                                        countTokens: { backend.tokenCount(of: $0, stoppingAbove: settings.limits.maxPromptTokens) })
                let memory = backend.estimatedMemoryBytes(for: generation)
                guard memory <= memoryLimitBytes else {
                    throw RequestError(.limitExceeded, field: "memory", """
                        the request needs an estimated \(memory >> 20) MiB of activations and caches \
                        (\(generation.candidates.count) candidates at \(generation.width)x\(generation.height)), over this server's \
                        limit of \(memoryLimitBytes >> 20) MiB per request
                        """)
                }
                let response = try await queue.submit(generation, memoryBytes: memory, logger: logger)
                let encoded = try ResponseCodec.encode(response)
                metrics.addExecuted(multiplyAdds: response.accounting.executedMultiplyAdds)
                metrics.record(.ok)
                logger.info("generation served", metadata: [
                    "candidates": "\(generation.candidates.count)", "steps": "\(generation.steps)",
                    "switchStep": "\(generation.switchStep)", "size": "\(generation.width)x\(generation.height)",
                    "scheduler": "\(generation.scheduler)", "batchedRequests": "\(response.accounting.batchedRequests)",
                    "seconds": "\((ContinuousClock.now - started).seconds)", "responseBytes": "\(encoded.count)",
                    "estimatedActivationBytes": "\(memory)",
                ])
                var headers = HTTPFields()
                headers[.contentType] = ResponseCodec.contentType
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: encoded)))
            }
        } catch is BodyTooSlow {
            return refuse(.requestTimeout, .timeout, field: "body",
                          "request body not received within \(settings.bodyReadTimeout.seconds) s", logger: logger)
        } catch is BodyTooLarge {
            return refuse(.contentTooLarge, .payloadTooLarge, field: "body", "request body exceeds the limit of \(maxBytes) bytes", logger: logger)
        } catch let error as RequestError {
            let status: HTTPResponse.Status = error.kind == .limitExceeded ? .unprocessableContent : .badRequest
            return refuse(status, error.kind, field: error.field, error.message, logger: logger)
        } catch let rejection as GenerationQueue.QueueRejection {
            switch rejection {
            case .full(let capacity):
                return refuse(.tooManyRequests, .overloaded, field: "queue", "queue is full (\(capacity) requests); retry later", logger: logger)
            case .draining:
                return refuse(.serviceUnavailable, .overloaded, field: "server", "server is shutting down; retry on another instance", logger: logger)
            }
        } catch is CancellationError {
            metrics.record(.cancelled)
            logger.info("generation cancelled: client disconnected")
            return errorResponse(.init(code: 499, reasonPhrase: "Client Closed Request"), kind: .cancelled, field: nil,
                                 "client disconnected", retryAfter: false)
        } catch {
            metrics.record(.internal)
            // The error's type only: a backend message might quote a prompt.
            logger.error("generation failed", metadata: ["errorType": "\(type(of: error))"])
            return errorResponse(.internalServerError, kind: .internal, field: nil, "generation failed: \(error)", retryAfter: false)
        }
    }

    /// Records the outcome, logs it without request content, and builds the error response.
    private func refuse(_ status: HTTPResponse.Status, _ kind: RequestError.Kind, field: String, _ message: String, logger: Logger) -> Response {
        let outcome: ServerMetrics.Outcome = switch kind {
        case .invalid: .invalid
        case .limitExceeded: .limitExceeded
        case .unsupportedVersion: .unsupportedVersion
        case .unauthorized: .unauthorized
        case .payloadTooLarge: .payloadTooLarge
        case .overloaded: .overloaded
        case .cancelled: .cancelled
        case .timeout: .timeout
        case .notFound, .internal: .internal
        }
        metrics.record(outcome)
        logger.notice("request refused", metadata: ["status": "\(status.code)", "kind": "\(kind.rawValue)", "field": "\(field)"])
        return errorResponse(status, kind: kind, field: field, message, retryAfter: kind == .overloaded)
    }

    private func errorResponse(_ status: HTTPResponse.Status, kind: RequestError.Kind, field: String?, _ message: String,
                               retryAfter: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if retryAfter { headers[.retryAfter] = String(settings.retryAfterSeconds) }
        if kind == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"obclip\"" }
        let body = ErrorEnvelope(kind: kind.rawValue, field: field, message: message).encoded()
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The request body grew past the byte limit while streaming in.
private struct BodyTooLarge: Error {}

/// The request body was still arriving at its deadline.
private struct BodyTooSlow: Error {}
