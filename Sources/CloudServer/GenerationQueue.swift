import Foundation
import Logging
import WireProtocol

/// Admits requests up to a fixed capacity, batches compatible ones, and runs one batch at a
/// time on the backend (the backend already uses every core for one forward pass).
///
/// - Bounded: at most `capacity` requests are admitted (waiting or running); beyond that,
///   `submit` fails at once with `QueueRejection.full` so the client can back off.
/// - Batching: when the worker is free it takes the oldest waiting request and every other
///   waiting request with the same `batchKey`, up to `maxBatchCandidates` candidates and
///   `maxBatchMemoryBytes` of estimated activations.
/// - Cancellation: a request whose submitting task is cancelled (the client disconnected) leaves
///   the queue and frees its slot at once; a running batch whose requests are all cancelled is
///   cancelled on the backend.
/// - Draining: after `beginDraining()` new requests are refused with `QueueRejection.draining`
///   while admitted ones finish (graceful shutdown); `abandonAll()` answers whatever is left at
///   the drain deadline with the same rejection, so those clients retry elsewhere.
public actor GenerationQueue {
    /// Why a request was not admitted.
    public enum QueueRejection: Error, Equatable {
        case full(capacity: Int)
        case draining
    }

    private struct Job {
        let id: Int
        let request: GenerationRequest
        let memoryBytes: Int
        /// The submitting request's logger (it carries the request id).
        let logger: Logger
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<GenerationResponse, Error>
    }

    private struct RunningBatch {
        var live: [Int: Job]
        let task: Task<Void, Never>
    }

    public let capacity: Int
    public let maxBatchCandidates: Int
    public let maxBatchMemoryBytes: Int
    private let batchWindow: Duration
    private let backend: any GenerationBackend
    private let metrics: ServerMetrics
    private let logger: Logger
    private var waiting: [Job] = []
    private var running: RunningBatch?
    private var nextID = 0
    private var draining = false
    private var launchScheduled = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    public init(backend: any GenerationBackend, capacity: Int, maxBatchCandidates: Int, maxBatchMemoryBytes: Int = .max,
                batchWindow: Duration = .milliseconds(5), metrics: ServerMetrics, logger: Logger) {
        precondition(capacity >= 1 && maxBatchCandidates >= 1, "queue capacity and batch size must be positive")
        self.backend = backend
        self.capacity = capacity
        self.maxBatchCandidates = maxBatchCandidates
        self.maxBatchMemoryBytes = maxBatchMemoryBytes
        self.batchWindow = batchWindow
        self.metrics = metrics
        self.logger = logger
    }

    /// Requests admitted and not yet answered (waiting plus running).
    public var depth: Int { waiting.count + (running?.live.count ?? 0) }

    /// Whether a new request would be admitted now.
    public var hasRoom: Bool { !draining && depth < capacity }

    public var isDraining: Bool { draining }

    /// Runs `request` (whose forward pass needs an estimated `memoryBytes` of activations)
    /// through the queue. Throws `QueueRejection` when not admitted or abandoned at the drain
    /// deadline, `CancellationError` when the calling task is cancelled, or the backend's error.
    public func submit(_ request: GenerationRequest, memoryBytes: Int = 0, logger: Logger? = nil) async throws -> GenerationResponse {
        if draining { throw QueueRejection.draining }
        guard depth < capacity else { throw QueueRejection.full(capacity: capacity) }
        let id = nextID
        nextID += 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                waiting.append(Job(id: id, request: request, memoryBytes: memoryBytes, logger: logger ?? self.logger,
                                   enqueued: .now, continuation: continuation))
                publishDepth()
                startNextBatchIfIdle()
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    /// Stops admitting requests; admitted ones still complete.
    public func beginDraining() {
        draining = true
        metrics.setDraining(true)
    }

    /// Suspends until no request is waiting or running.
    public func waitUntilIdle() async {
        if depth == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Answers every admitted request with `QueueRejection.draining` and cancels the running
    /// batch: the end of a drain whose deadline passed. Returns how many were abandoned.
    @discardableResult
    public func abandonAll() -> Int {
        let jobs = waiting + (running.map { Array($0.live.values) } ?? [])
        waiting = []
        running?.live = [:]
        running?.task.cancel()
        for job in jobs { job.continuation.resume(throwing: QueueRejection.draining) }
        publishDepth()
        return jobs.count
    }

    private func cancel(_ id: Int) {
        let job: Job
        if let index = waiting.firstIndex(where: { $0.id == id }) {
            job = waiting.remove(at: index)
        } else if var batch = running, let live = batch.live.removeValue(forKey: id) {
            job = live
            running = batch
            if batch.live.isEmpty { batch.task.cancel() }
        } else {
            return
        }
        job.continuation.resume(throwing: CancellationError())
        job.logger.info("request cancelled by client")
        publishDepth()
    }

    /// Schedules a batch launch after the batching window, so requests arriving together can
    /// share one forward pass.
    private func startNextBatchIfIdle() {
        guard running == nil, !launchScheduled, !waiting.isEmpty else { return }
        launchScheduled = true
        let window = batchWindow
        Task {
            try? await Task.sleep(for: window)
            self.launchBatch()
        }
    }

    private func launchBatch() {
        launchScheduled = false
        guard running == nil, let first = waiting.first else { return }
        var chosen: [Job] = []
        var candidates = 0
        var memory = 0
        let key = first.request.batchKey
        waiting.removeAll { job in
            guard job.request.batchKey == key,
                  chosen.isEmpty || (candidates + job.request.candidates.count <= maxBatchCandidates
                                     && memory + job.memoryBytes <= maxBatchMemoryBytes) else {
                return false
            }
            chosen.append(job)
            candidates += job.request.candidates.count
            memory += job.memoryBytes
            return true
        }
        let requests = chosen.map(\.request)
        let ids = chosen.map(\.id)
        let backend = self.backend
        let metrics = self.metrics
        let started = ContinuousClock.now
        let task = Task {
            let result: Result<[GenerationResponse], Error>
            do {
                let observer = BatchObserver { seconds, count in metrics.observeStep(seconds: seconds, candidates: count) }
                result = .success(try await backend.generate(requests, observer: observer))
            } catch {
                result = .failure(error)
            }
            self.finish(ids: ids, result: result, started: started)
        }
        running = RunningBatch(live: Dictionary(uniqueKeysWithValues: chosen.map { ($0.id, $0) }), task: task)
        for job in chosen {
            job.logger.debug("batch started", metadata: ["requests": "\(chosen.count)", "candidates": "\(candidates)"])
        }
        publishDepth()
    }

    private func finish(ids: [Int], result: Result<[GenerationResponse], Error>, started: ContinuousClock.Instant) {
        let live = running?.live ?? [:]
        running = nil
        let batchSeconds = (ContinuousClock.now - started).seconds
        for (position, id) in ids.enumerated() {
            guard let job = live[id] else { continue }  // cancelled: already answered
            switch result {
            case .success(let responses) where responses.count == ids.count:
                var response = responses[position]
                let queueSeconds = (started - job.enqueued).seconds
                response.accounting.phaseSeconds["queue"] = queueSeconds
                response.accounting.phaseSeconds["total"] = queueSeconds + batchSeconds
                response.accounting.batchedRequests = ids.count
                job.continuation.resume(returning: response)
            case .success(let responses):
                job.continuation.resume(throwing: BackendContractViolation(expected: ids.count, got: responses.count))
            case .failure(let error):
                job.continuation.resume(throwing: error)
            }
        }
        publishDepth()
        startNextBatchIfIdle()
    }

    private func resumeIdleWaiters() {
        let waiters = idleWaiters
        idleWaiters = []
        waiters.forEach { $0.resume() }
    }

    private func publishDepth() {
        metrics.setQueueDepth(depth)
        if depth == 0 { resumeIdleWaiters() }
    }
}

/// A backend returned a different number of responses than requests it was given.
struct BackendContractViolation: Error, CustomStringConvertible {
    let expected: Int
    let got: Int
    var description: String { "backend returned \(got) responses for \(expected) requests" }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
