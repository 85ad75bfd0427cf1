import ArgumentParser
import Foundation
import WireProtocol

/// The server-acceleration knobs on the command line (`generate`).
struct AccelerationArguments: ParsableArguments {
    @Option(help: "Server accelerations: a comma-separated subset of reuse, cache, skip; or all, none.")
    var accelerate = "none"

    @OptionGroup var points: AccelerationPoints

    static let names = ["reuse", "cache", "skip"]

    /// The knobs for switch point `k`: the method's (r, s) for k unless given.
    func options(switchStep k: Int) throws -> AccelerationOptions {
        let chosen = Set(accelerate.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let enabled: Set<String>
        switch chosen {
        case ["all"]: enabled = Set(Self.names)
        case ["none"]: enabled = []
        default:
            let unknown = chosen.subtracting(Self.names)
            guard unknown.isEmpty else {
                throw ValidationError("unknown acceleration '\(unknown.sorted().joined(separator: ","))'; use reuse, cache, skip, all or none")
            }
            enabled = chosen
        }
        return points.options(enabling: enabled, switchStep: k)
    }
}

/// Where the accelerations start and how often their caches refresh (`generate`, `bench fidelity`).
struct AccelerationPoints: ParsableArguments {
    @Option(name: .customLong("cache-point"), help: "r: first server step served from the attention cache; batch reuse runs before it (default: the method's r for k).")
    var cachePoint: Int?

    @Option(name: .customLong("skip-point"), help: "s: first server step that skips the down path and mid block (default: the method's s for k).")
    var skipPoint: Int?

    @Option(name: .customLong("refresh-interval"), help: "Steps between full recomputations of the caches.")
    var refreshInterval = 5

    /// Options with the accelerations named in `enabled` on, at the method's (r, s) for `k` unless given.
    func options(enabling enabled: Set<String>, switchStep k: Int) -> AccelerationOptions {
        let method = AccelerationOptions.method(switchStep: k)
        return AccelerationOptions(reuse: enabled.contains("reuse"), cache: enabled.contains("cache"), skip: enabled.contains("skip"),
                                   cachePoint: cachePoint ?? method.cachePoint, skipPoint: skipPoint ?? method.skipPoint,
                                   refreshInterval: refreshInterval)
    }
}
