import WireProtocol

/// The compute behind the HTTP service: runs the server's share of a generation.
///
/// The service owns transport, auth, limits, queueing and batching; a backend owns the models.
/// `ModelBackend` is the real one; keeping the seam lets the service be exercised on any engine
/// that honours this contract.
public protocol GenerationBackend: Sendable {
    /// Scheduler names this backend can run (validated before a request is queued).
    var knownSchedulers: Set<String> { get }

    /// Tokens of `prompt` under the backend's CLIP tokenizer, including start/end tokens, for
    /// the prompt-length limit: exact up to `limit`, any number above it past it (a hostile
    /// candidate must cost the server no more than a legal one to refuse).
    func tokenCount(of prompt: String, stoppingAbove limit: Int) -> Int

    /// Bytes the trajectory of `request` alone keeps alive at its peak beyond the weights: one
    /// forward pass's activations plus what its accelerations cache between calls (an upper
    /// estimate; a batch needs the sum of its requests'). The service refuses a request above
    /// its memory limit and the queue never batches past it.
    func estimatedMemoryBytes(for request: GenerationRequest) -> Int

    /// Runs model calls `0..<switchStep` for every candidate of every request as one batched
    /// forward pass per step. All requests share one `batchKey`. Returns one response per
    /// request, in order. Must check `Task.isCancelled` between model calls and throw
    /// `CancellationError` when set, so an abandoned batch frees the machine promptly.
    func generate(_ batch: [GenerationRequest], observer: BatchObserver) async throws -> [GenerationResponse]
}

/// Receives per-step timings from a backend (for `/metrics`).
public struct BatchObserver: Sendable {
    let stepCompleted: @Sendable (_ seconds: Double, _ candidates: Int) -> Void

    public init(stepCompleted: @escaping @Sendable (_ seconds: Double, _ candidates: Int) -> Void) {
        self.stepCompleted = stepCompleted
    }

    /// Reports one batched model call over `candidates` rows (conditional and unconditional
    /// passes of CFG count as one call).
    public func stepCompleted(seconds: Double, candidates: Int) { stepCompleted(seconds, candidates) }

    /// An observer that records nothing.
    public static let none = BatchObserver { _, _ in }
}
