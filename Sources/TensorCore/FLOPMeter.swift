import Foundation

/// Counts the multiply-adds executed by kernels, so a run can report the FLOPs it really did.
///
/// Kernels call `FLOPMeter.record` once per call from the calling thread; the meter in effect is
/// the task-local `FLOPMeter.current`, installed with `measure`. A meter made with
/// `countOnly: true` makes kernels tally their work without doing the arithmetic (outputs are
/// allocated and left zero), so whole generation schedules can be costed in seconds through the
/// same code path that really runs. FLOPs = 2 × multiply-adds.
public final class FLOPMeter: @unchecked Sendable {
    /// What a kernel did, for per-kind reports and profiles.
    public enum Kind: String, CaseIterable, Sendable {
        case gemm, convolution, attention, normalization, elementwise
    }

    public let countOnly: Bool
    private let lock = NSLock()
    private var macs: [Kind: Int] = [:]

    @TaskLocal public static var current: FLOPMeter?

    public init(countOnly: Bool = false) { self.countOnly = countOnly }

    /// Runs `body` with this meter installed as `current`.
    public func measure<T>(_ body: () throws -> T) rethrows -> T {
        try FLOPMeter.$current.withValue(self, operation: body)
    }

    public func measure<T>(_ body: () async throws -> T) async rethrows -> T {
        try await FLOPMeter.$current.withValue(self, operation: body)
    }

    /// True when the kernels in effect should skip arithmetic.
    public static var isCountOnly: Bool { current?.countOnly ?? false }

    public static func record(_ kind: Kind, multiplyAdds: Int) {
        guard let meter = current else { return }
        meter.lock.lock()
        meter.macs[kind, default: 0] += multiplyAdds
        meter.lock.unlock()
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

    public func reset() {
        lock.lock(); macs = [:]; lock.unlock()
    }
}
