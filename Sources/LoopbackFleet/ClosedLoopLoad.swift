import DeviceClient
import WireProtocol

/// A fixed client load: `concurrency` clients, each sending its next request as soon as the
/// previous one is answered (a closed loop), until every request has been sent once. Each
/// request goes through `CloudClient`, so it gets the device's own retries and validation.
public enum ClosedLoopLoad {
    /// Every exchange, in the order of `requests`. Throws the first request that failed after
    /// its retries.
    public static func run(_ requests: [GenerationRequest], client: CloudClient, concurrency: Int,
                           progress: LoadProgress = LoadProgress()) async throws -> [CloudExchange] {
        try await withThrowingTaskGroup(of: [(Int, CloudExchange)].self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    var done: [(Int, CloudExchange)] = []
                    while let index = await progress.take(below: requests.count) {
                        done.append((index, try await client.generate(requests[index])))
                        await progress.finished()
                    }
                    return done
                }
            }
            var all: [(Int, CloudExchange)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// Hands out request indices to the clients of a `ClosedLoopLoad` and counts completions, so a
/// test can act at a given point of the load.
public actor LoadProgress {
    private var next = 0
    public private(set) var completed = 0

    public init() {}

    func take(below count: Int) -> Int? {
        guard next < count else { return nil }
        defer { next += 1 }
        return next
    }

    func finished() { completed += 1 }

    /// Suspends until at least `count` requests have been answered (polling every 5 ms).
    public func waitUntilCompleted(_ count: Int) async throws {
        while completed < count { try await Task.sleep(for: .milliseconds(5)) }
    }
}
