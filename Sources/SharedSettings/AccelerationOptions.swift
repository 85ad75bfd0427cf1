/// The server-side accelerations of the method (METHOD.md §4), per request: what the device
/// asks for on the wire (these JSON names) and, read call by call through `call(_:)` in
/// Diffusion, the plan the engine runs — one value from the command line to the UNet.
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
public struct AccelerationOptions: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Batch reuse of the pivot candidate's attention maps for server steps `< cachePoint`.
    public var reuse: Bool
    /// Temporal attention cache from step `cachePoint` on.
    public var cache: Bool
    /// Block skip (reuse of encoder features) from step `skipPoint` on.
    public var skip: Bool
    /// r: first step of the attention cache; reuse applies before it.
    public var cachePoint: Int
    /// s: first step of block skipping.
    public var skipPoint: Int
    /// Steps between full recomputations of the caches.
    public var refreshInterval: Int

    public init(reuse: Bool, cache: Bool, skip: Bool, cachePoint: Int, skipPoint: Int, refreshInterval: Int = 5) {
        self.reuse = reuse
        self.cache = cache
        self.skip = skip
        self.cachePoint = cachePoint
        self.skipPoint = skipPoint
        self.refreshInterval = refreshInterval
    }

    /// Plain batched generation: the server's output equals an unaccelerated run bit for bit.
    public static let off = AccelerationOptions(reuse: false, cache: false, skip: false, cachePoint: 0, skipPoint: 0)

    /// The method's configurations for a switch point: (k, r, s) = (5, 3, 3) or (10, 4, 6),
    /// scaled proportionally for other k.
    public static func method(switchStep k: Int) -> AccelerationOptions {
        let (r, s): (Int, Int) = switch k {
        case 5: (3, 3)
        case 10: (4, 6)
        default: (max(1, Int((Double(k) * 0.4).rounded())), max(1, Int((Double(k) * 0.6).rounded())))
        }
        return AccelerationOptions(reuse: true, cache: true, skip: true, cachePoint: r, skipPoint: s)
    }

    public var description: String {
        "reuse=\(reuse),cache=\(cache),skip=\(skip),r=\(cachePoint),s=\(skipPoint),i=\(refreshInterval)"
    }
}
