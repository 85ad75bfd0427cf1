import Foundation

/// The server's Prometheus metrics, rendered in the text exposition format (0.0.4).
///
/// Hand-written rather than a metrics library: six series do not justify a dependency. Labels
/// are fixed enums (outcomes), never request content, so prompt text cannot leak into metrics.
public final class ServerMetrics: @unchecked Sendable {
    /// How a request ended; each value is one `outcome` label.
    public enum Outcome: String, CaseIterable, Sendable {
        case ok, invalid, limitExceeded = "limit_exceeded", unsupportedVersion = "unsupported_version"
        case unauthorized, payloadTooLarge = "payload_too_large", overloaded, cancelled, timeout, `internal`
    }

    /// Upper bounds (seconds) of the step-latency histogram buckets.
    static let stepBuckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Upper bounds of the candidates-per-forward-pass histogram buckets.
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64]

    private let lock = NSLock()
    private var outcomes: [Outcome: Int] = [:]
    private var queueDepth = 0
    private var queueCapacity = 0
    private var draining = false
    private var step = Histogram(bounds: stepBuckets)
    private var batch = Histogram(bounds: batchBuckets)
    private var multiplyAdds: Int64 = 0

    public init() {}

    public func record(_ outcome: Outcome) { lock.withLock { outcomes[outcome, default: 0] += 1 } }
    public func setQueueDepth(_ depth: Int) { lock.withLock { queueDepth = depth } }
    public func setQueueCapacity(_ capacity: Int) { lock.withLock { queueCapacity = capacity } }
    public func setDraining(_ value: Bool) { lock.withLock { draining = value } }
    public func addExecuted(multiplyAdds count: Int64) { lock.withLock { multiplyAdds += count } }

    /// One batched model call over `candidates` rows took `seconds`.
    public func observeStep(seconds: Double, candidates: Int) {
        lock.withLock {
            step.observe(seconds)
            batch.observe(Double(candidates))
        }
    }

    /// Requests that ended with `outcome` so far.
    public func count(_ outcome: Outcome) -> Int { lock.withLock { outcomes[outcome, default: 0] } }

    /// The exposition text served at `/metrics`.
    public func render() -> String {
        lock.withLock {
            var out = ""
            out += "# HELP obclip_queue_depth Generation requests admitted and not yet answered.\n"
            out += "# TYPE obclip_queue_depth gauge\nobclip_queue_depth \(queueDepth)\n"
            out += "# HELP obclip_queue_capacity Maximum admitted generation requests.\n"
            out += "# TYPE obclip_queue_capacity gauge\nobclip_queue_capacity \(queueCapacity)\n"
            out += "# HELP obclip_draining 1 while a graceful shutdown refuses new requests and finishes admitted ones.\n"
            out += "# TYPE obclip_draining gauge\nobclip_draining \(draining ? 1 : 0)\n"
            out += "# HELP obclip_requests_total Generation requests by outcome.\n# TYPE obclip_requests_total counter\n"
            for outcome in Outcome.allCases {
                out += "obclip_requests_total{outcome=\"\(outcome.rawValue)\"} \(outcomes[outcome, default: 0])\n"
            }
            out += step.render(name: "obclip_step_seconds", help: "Seconds per batched model call (all candidates, both CFG halves).")
            out += batch.render(name: "obclip_batch_candidates", help: "Candidates per batched model call.")
            out += "# HELP obclip_executed_flops_total Floating-point operations executed by generation kernels.\n"
            out += "# TYPE obclip_executed_flops_total counter\nobclip_executed_flops_total \(2 * multiplyAdds)\n"
            return out
        }
    }
}

/// A cumulative Prometheus histogram.
struct Histogram {
    let bounds: [Double]
    private(set) var counts: [Int]
    private(set) var sum = 0.0
    private(set) var total = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        for (i, bound) in bounds.enumerated() where value <= bound { counts[i] += 1 }
        sum += value
        total += 1
    }

    func render(name: String, help: String) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (bound, count) in zip(bounds, counts) { out += "\(name)_bucket{le=\"\(bound)\"} \(count)\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(total)\n\(name)_sum \(sum)\n\(name)_count \(total)\n"
        return out
    }
}
