import WireProtocol

/// Operator settings of a cloud server: where it listens, how much work it accepts, and how long
/// it waits for slow or departing peers.
public struct CloudServerSettings: Sendable {
    public var host: String
    /// TCP port; 0 picks a free one (tests, the in-process demo).
    public var port: Int
    public var limits: ServerLimits
    /// Requests admitted at once (waiting plus running); more get 429.
    public var queueCapacity: Int
    /// Candidates (across requests) in one batched forward pass.
    public var maxBatchCandidates: Int
    /// How long an idle worker waits for compatible requests to arrive before starting a batch.
    public var batchWindow: Duration
    /// Seconds a refused client is told to wait (`Retry-After`).
    public var retryAfterSeconds: Int
    /// How long a graceful shutdown keeps admitted requests running (while refusing new ones with
    /// 503 and failing `/readyz`) before it answers the rest with 503 and stops.
    public var drainTimeout: Duration
    /// A connection that delivers no complete request part (the header block, a body chunk) for
    /// this long is closed: bounds slow-header clients and idle keep-alive connections.
    public var idleTimeout: Duration
    /// The whole request body must arrive within this time of the handler starting (a client
    /// that drips its body a byte at a time gets 408).
    public var bodyReadTimeout: Duration
    /// A response the client does not read for this long (its socket stays full) is abandoned
    /// and the connection closed.
    public var writeTimeout: Duration
    /// Activation memory one batched forward pass may need (the backend's estimate). Nil: three
    /// quarters of the memory available when the service starts.
    public var maxRequestMemoryBytes: Int?
    /// TLS terminated in process; nil serves plain HTTP (loopback, or behind a proxy that
    /// terminates TLS, as in deploy/nginx).
    public var tls: ServerTLS?

    public init(host: String = "127.0.0.1", port: Int = 8080, limits: ServerLimits = ServerLimits(),
                queueCapacity: Int = 8, maxBatchCandidates: Int = 32, batchWindow: Duration = .milliseconds(5),
                retryAfterSeconds: Int = 2, drainTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(30),
                bodyReadTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(30),
                maxRequestMemoryBytes: Int? = nil, tls: ServerTLS? = nil) {
        self.host = host
        self.port = port
        self.limits = limits
        self.queueCapacity = queueCapacity
        self.maxBatchCandidates = maxBatchCandidates
        self.batchWindow = batchWindow
        self.retryAfterSeconds = retryAfterSeconds
        self.drainTimeout = drainTimeout
        self.idleTimeout = idleTimeout
        self.bodyReadTimeout = bodyReadTimeout
        self.writeTimeout = writeTimeout
        self.maxRequestMemoryBytes = maxRequestMemoryBytes
        self.tls = tls
    }
}
