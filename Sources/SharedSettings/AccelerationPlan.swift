extension AccelerationOptions {
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

        public init(batchReuse: Bool, attention: CacheUse, encoder: CacheUse) {
            self.batchReuse = batchReuse
            self.attention = attention
            self.encoder = encoder
        }

        /// Whether the call is a plain forward (and may take the unaccelerated code path).
        public var isPlain: Bool { !batchReuse && attention == .bypass && encoder == .bypass }
    }

    /// The plan for model call `index` — the one place the knobs become what the engine does
    /// (see the type's rules).
    public func call(_ index: Int) -> Call {
        Call(batchReuse: reuse && index < cachePoint,
             attention: cache ? cacheUse(index, start: cachePoint) : .bypass,
             encoder: skip ? cacheUse(index, start: skipPoint) : .bypass)
    }

    private func cacheUse(_ index: Int, start: Int) -> CacheUse {
        let filled = start - 1
        if index < filled { return .bypass }
        return (index - filled) % max(refreshInterval, 1) == 0 ? .fill : .reuse
    }
}
