/// The server-side accelerations of ObCLIP (METHOD.md §4, DESIGN.md §4) for one batched
/// trajectory, and what each model call does under them.
///
/// Model calls are indexed from 0. With cache point r, skip point s and refresh interval i:
/// - batch reuse applies to calls `< r`;
/// - the attention cache is filled at call `r − 1` and used from `r` on, recomputed (and
///   refilled) at calls `r − 1 + m·i`, so a cached value is never more than `i − 1` calls old;
/// - block skip is filled at call `s − 1` and used from `s` on, refreshed the same way from
///   `s − 1`.
/// A call that should use a cache which holds nothing computes (and fills) instead, so every
/// schedule is well defined; the protocol validates the knobs separately to reject requests
/// that would silently accelerate nothing.
public struct AccelerationSchedule: Sendable, Equatable {
    public var batchReuse: Bool
    public var attentionCache: Bool
    public var blockSkip: Bool
    /// r: first call served from the attention cache; batch reuse applies before it.
    public var cachePoint: Int
    /// s: first call that skips the down path and mid block.
    public var skipPoint: Int
    /// Calls between recomputations of a cache.
    public var refreshInterval: Int

    public init(batchReuse: Bool, attentionCache: Bool, blockSkip: Bool, cachePoint: Int, skipPoint: Int, refreshInterval: Int = 5) {
        self.batchReuse = batchReuse
        self.attentionCache = attentionCache
        self.blockSkip = blockSkip
        self.cachePoint = cachePoint
        self.skipPoint = skipPoint
        self.refreshInterval = refreshInterval
    }

    /// No acceleration: every call is a plain UNet forward.
    public static let off = AccelerationSchedule(batchReuse: false, attentionCache: false, blockSkip: false, cachePoint: 0, skipPoint: 0)

    /// What to do with a cache at one call.
    public enum CacheUse: Sendable, Equatable {
        /// Compute as usual; the cache is untouched.
        case bypass
        /// Compute and keep the result for later calls.
        case fill
        /// Take the kept result instead of computing (falls back to `fill` when nothing is kept).
        case reuse
    }

    /// The plan for one model call.
    public struct Call: Sendable, Equatable {
        public var batchReuse: Bool
        public var attention: CacheUse
        public var encoder: CacheUse

        /// Whether the call is a plain forward (and may take the unaccelerated code path).
        public var isPlain: Bool { !batchReuse && attention == .bypass && encoder == .bypass }
    }

    /// The plan for model call `index`.
    public func call(_ index: Int) -> Call {
        Call(batchReuse: batchReuse && index < cachePoint,
             attention: attentionCache ? cacheUse(index, start: cachePoint) : .bypass,
             encoder: blockSkip ? cacheUse(index, start: skipPoint) : .bypass)
    }

    private func cacheUse(_ index: Int, start: Int) -> CacheUse {
        let filled = start - 1
        if index < filled { return .bypass }
        return (index - filled) % max(refreshInterval, 1) == 0 ? .fill : .reuse
    }
}
