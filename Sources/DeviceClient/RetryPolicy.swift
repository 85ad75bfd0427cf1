import Foundation

/// How the client retries a generation after an overloaded server (429/503) or a lost
/// connection. Every retry resends the whole candidate set: a retry that sent less would tell
/// the server which candidates matter.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in total, including the first.
    public var maxAttempts: Int
    /// Delay before the first retry; doubles each time up to `maxDelay`.
    public var initialDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, initialDelay: Double = 0.5, maxDelay: Double = 8) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait before attempt `attempt` (1-based; attempt 1 is the first retry). A
    /// server's `Retry-After` wins when it asks for longer than the backoff.
    public func delay(beforeRetry attempt: Int, retryAfter: Double?) -> Double {
        let backoff = min(maxDelay, initialDelay * pow(2, Double(max(0, attempt - 1))))
        return max(backoff, min(retryAfter ?? 0, maxDelay * 4))
    }
}
