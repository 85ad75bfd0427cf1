import WireProtocol

/// Operator settings of a cloud server: where it listens and how much work it accepts.
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

    public init(host: String = "127.0.0.1", port: Int = 8080, limits: ServerLimits = ServerLimits(),
                queueCapacity: Int = 8, maxBatchCandidates: Int = 32, batchWindow: Duration = .milliseconds(5),
                retryAfterSeconds: Int = 2) {
        self.host = host
        self.port = port
        self.limits = limits
        self.queueCapacity = queueCapacity
        self.maxBatchCandidates = maxBatchCandidates
        self.batchWindow = batchWindow
        self.retryAfterSeconds = retryAfterSeconds
    }
}
