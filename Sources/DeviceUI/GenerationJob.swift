import DeviceClient
import Foundation

/// One generation the page asked for: its progress so far (replayed to every listener, so a
/// page that reconnects sees the whole bar), and at the end its image and report. Held in
/// memory only.
final class GenerationJob: @unchecked Sendable {
    /// What a finished generation leaves.
    struct Result: Sendable {
        /// The image as PNG, without metadata.
        var png: Data
        var report: GenerationReport
    }

    let id: Int
    let prompt: String
    let settings: UISettings
    let submitted = Date()
    private let lock = NSLock()
    private var updates: [ProgressUpdate] = []
    private var listeners: [UUID: AsyncStream<ProgressUpdate>.Continuation] = [:]
    private var result: Result?
    private var task: Task<Void, Never>?
    private var cancelRequested = false

    init(id: Int, prompt: String, settings: UISettings) {
        self.id = id
        self.prompt = prompt
        self.settings = settings
    }

    var elapsed: Double { Date().timeIntervalSince(submitted) }

    /// The finished generation, if it finished.
    var finished: Result? { lock.withLock { result } }

    /// The last update (its kind is the job's state).
    var latest: ProgressUpdate? { lock.withLock { updates.last } }

    /// Adds an update and hands it to every listener; ignored once the job has ended.
    func record(_ update: ProgressUpdate, result: Result? = nil) {
        let listeners = lock.withLock { () -> [AsyncStream<ProgressUpdate>.Continuation] in
            guard updates.last?.isTerminal != true else { return [] }
            updates.append(update)
            if let result { self.result = result }
            return Array(self.listeners.values)
        }
        for listener in listeners {
            listener.yield(update)
            if update.isTerminal { listener.finish() }
        }
    }

    /// Every update so far, then the live ones until the job ends.
    func subscribe() -> AsyncStream<ProgressUpdate> {
        let (stream, continuation) = AsyncStream<ProgressUpdate>.makeStream()
        let key = UUID()
        let past = lock.withLock { () -> [ProgressUpdate] in
            if updates.last?.isTerminal != true { listeners[key] = continuation }
            return updates
        }
        for update in past { continuation.yield(update) }
        if past.last?.isTerminal == true { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.listeners.removeValue(forKey: key) }
        }
        return stream
    }

    /// Attaches the task that runs the job (cancelled at once if cancel came first).
    func attach(_ task: Task<Void, Never>) {
        let cancelNow = lock.withLock { () -> Bool in
            self.task = task
            return cancelRequested
        }
        if cancelNow { task.cancel() }
    }

    /// Asks the job to stop: a queued job never starts, a running one stops at its next step
    /// (or drops the server exchange). Returns false if it had already ended.
    @discardableResult
    func cancel() -> Bool {
        let (task, wasQueued, ended) = lock.withLock { () -> (Task<Void, Never>?, Bool, Bool) in
            guard updates.last?.isTerminal != true else { return (nil, false, true) }
            cancelRequested = true
            return (self.task, updates.last?.kind == .queued, false)
        }
        if ended { return false }
        if wasQueued { record(ProgressUpdate(kind: .cancelled, label: "cancelled before it started", fraction: nil, elapsed: elapsed)) }
        task?.cancel()
        return true
    }

    var isCancelRequested: Bool { lock.withLock { cancelRequested } }
}
