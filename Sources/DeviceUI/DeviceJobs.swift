import Foundation

/// The generations since the UI started: run one at a time (the device's cores are the
/// bottleneck), kept in memory for the gallery, oldest dropped past `limit`.
actor DeviceJobs {
    private var jobs: [Int: GenerationJob] = [:]
    private var order: [Int] = []
    private var nextID = 1
    private var tail: Task<Void, Never>?
    let limit: Int

    init(limit: Int = 100) { self.limit = limit }

    /// Queues a job behind the running and waiting ones; `run` does the work when its turn comes.
    func submit(prompt: String, settings: UISettings, run: @escaping @Sendable (GenerationJob) async -> Void) -> GenerationJob {
        let job = GenerationJob(id: nextID, prompt: prompt, settings: settings)
        nextID += 1
        let ahead = order.compactMap { jobs[$0] }.filter { $0.latest?.isTerminal != true }.count
        jobs[job.id] = job
        order.append(job.id)
        while order.count > limit, let oldest = order.first, jobs[oldest]?.latest?.isTerminal == true {
            order.removeFirst()
            jobs[oldest] = nil
        }
        job.record(ahead == 0
            ? ProgressUpdate(kind: .preparing, label: "starting", fraction: 0, elapsed: 0)
            : ProgressUpdate(kind: .queued, label: "waiting for \(ahead) earlier generation\(ahead == 1 ? "" : "s") on this device", fraction: 0, elapsed: 0))
        let previous = tail
        let task = Task {
            await previous?.value
            guard !job.isCancelRequested else {
                return job.record(ProgressUpdate(kind: .cancelled, label: "cancelled before it started", fraction: nil, elapsed: job.elapsed))
            }
            await run(job)
        }
        tail = task
        job.attach(task)
        return job
    }

    func job(_ id: Int) -> GenerationJob? { jobs[id] }

    /// Finished generations, newest first.
    func finished() -> [GenerationJob] {
        order.reversed().compactMap { jobs[$0] }.filter { $0.finished != nil }
    }
}
