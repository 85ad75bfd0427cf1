import Foundation

/// Counts the multiply-adds executed by kernels, so a run can report the FLOPs it really did,
/// and optionally the time spent per kind of kernel (a profile).
///
/// Kernels account for each call from the calling thread with `FLOPMeter.run` (or `record`);
/// the meter in effect is the task-local `FLOPMeter.current`, installed with `measure`. A meter
/// made with `countOnly: true` makes kernels tally their work without doing the arithmetic
/// (outputs are allocated and left zero), so whole generation schedules can be costed in seconds
/// through the same code path that really runs. A meter made with `profiling: true` also adds
/// each call's wall time to its kind, and to the call's label where the kernel gives one (such
/// as a convolution's shape and method); other meters never read the clock. FLOPs = 2 ×
/// multiply-adds.
///
/// Multiply-adds are counted as the textbook method does them (so a Winograd convolution counts
/// the direct convolution's, and FLOP totals stay comparable across methods); `executed` counts
/// the multiply-adds the kernels really ran, which is fewer for fast algorithms.
public final class FLOPMeter: @unchecked Sendable {
    /// What a kernel did, for per-kind reports and profiles.
    public enum Kind: String, CaseIterable, Sendable {
        case gemm, convolution, attention, normalization, elementwise
    }

    public let countOnly: Bool
    /// Whether kernel calls are timed (see `seconds(of:)`).
    public let profiling: Bool
    private let lock = NSLock()
    private var macs: [Kind: Int] = [:]
    private var nanoseconds: [Kind: UInt64] = [:]
    private var executedMacs: [Kind: Int] = [:]
    private var labelled: [String: Breakdown] = [:]

    /// One label's share of a profile: calls, wall time and (direct-method) multiply-adds.
    public struct Breakdown: Sendable {
        public var calls = 0
        public var seconds = 0.0
        public var multiplyAdds = 0
        public var executedMultiplyAdds = 0
    }

    @TaskLocal public static var current: FLOPMeter?

    public init(countOnly: Bool = false, profiling: Bool = false) {
        self.countOnly = countOnly
        self.profiling = profiling
    }

    /// Runs `body` with this meter installed as `current`.
    public func measure<T>(_ body: () throws -> T) rethrows -> T {
        try FLOPMeter.$current.withValue(self, operation: body)
    }

    public func measure<T>(_ body: () async throws -> T) async rethrows -> T {
        try await FLOPMeter.$current.withValue(self, operation: body)
    }

    /// True when the kernels in effect should skip arithmetic.
    public static var isCountOnly: Bool { current?.countOnly ?? false }

    /// Records a kernel call's multiply-adds (for kernels whose time need not be attributed).
    public static func record(_ kind: Kind, multiplyAdds: Int) {
        current?.add(kind, multiplyAdds: multiplyAdds, executed: multiplyAdds, nanoseconds: 0, label: nil)
    }

    /// Accounts for one kernel call: records its multiply-adds and runs `work` (the arithmetic)
    /// unless the meter in effect is count-only; a profiling meter also charges `work`'s wall
    /// time to `kind`. Kernels call this from the calling thread around their whole parallel
    /// section, so the time is the call's elapsed time on all workers together.
    /// `executed` (default: `multiplyAdds`) is what the kernel really ran; `label` (read only by
    /// a profiling meter) names the call in `breakdown`.
    public static func run(_ kind: Kind, multiplyAdds: Int, executed: Int? = nil, label: @autoclosure () -> String? = nil,
                           _ work: () -> Void) {
        guard let meter = current else { return work() }
        let ran = executed ?? multiplyAdds
        if meter.countOnly { return meter.add(kind, multiplyAdds: multiplyAdds, executed: ran, nanoseconds: 0, label: nil) }
        guard meter.profiling else {
            work()
            return meter.add(kind, multiplyAdds: multiplyAdds, executed: ran, nanoseconds: 0, label: nil)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        work()
        meter.add(kind, multiplyAdds: multiplyAdds, executed: ran, nanoseconds: DispatchTime.now().uptimeNanoseconds - start,
                  label: label())
    }

    private func add(_ kind: Kind, multiplyAdds: Int, executed: Int, nanoseconds elapsed: UInt64, label: String?) {
        lock.lock()
        macs[kind, default: 0] += multiplyAdds
        executedMacs[kind, default: 0] += executed
        if elapsed > 0 { nanoseconds[kind, default: 0] += elapsed }
        if let label {
            var entry = labelled[label, default: Breakdown()]
            entry.calls += 1
            entry.seconds += Double(elapsed) / 1e9
            entry.multiplyAdds += multiplyAdds
            entry.executedMultiplyAdds += executed
            labelled[label] = entry
        }
        lock.unlock()
    }

    public var multiplyAdds: Int {
        lock.lock(); defer { lock.unlock() }
        return macs.values.reduce(0, +)
    }

    public var flops: Double { 2 * Double(multiplyAdds) }

    public func multiplyAdds(of kind: Kind) -> Int {
        lock.lock(); defer { lock.unlock() }
        return macs[kind] ?? 0
    }

    /// Multiply-adds the kernels really executed (fewer than `multiplyAdds` where a fast
    /// algorithm such as Winograd ran).
    public var executedMultiplyAdds: Int {
        lock.lock(); defer { lock.unlock() }
        return executedMacs.values.reduce(0, +)
    }

    public func executedMultiplyAdds(of kind: Kind) -> Int {
        lock.lock(); defer { lock.unlock() }
        return executedMacs[kind] ?? 0
    }

    /// Profiled calls by label (empty unless `profiling`), slowest first.
    public var breakdown: [(label: String, Breakdown)] {
        lock.lock(); defer { lock.unlock() }
        return labelled.sorted { $0.value.seconds > $1.value.seconds }.map { ($0.key, $0.value) }
    }

    /// Wall time spent in kernels of `kind` (zero unless `profiling`).
    public func seconds(of kind: Kind) -> Double {
        lock.lock(); defer { lock.unlock() }
        return Double(nanoseconds[kind] ?? 0) / 1e9
    }

    public func reset() {
        lock.lock(); macs = [:]; nanoseconds = [:]; executedMacs = [:]; labelled = [:]; lock.unlock()
    }
}
