import ArgumentParser
import DeviceClient
import Foundation
import WireProtocol

/// The server-acceleration knobs on the command line (`generate`).
struct AccelerationArguments: ParsableArguments {
    @Option(help: "Server accelerations: a comma-separated subset of reuse, cache, skip; or all, none.")
    var accelerate = "none"

    @OptionGroup var points: AccelerationPoints

    /// The knobs for switch point `k`: the method's (r, s) for k unless given.
    func options(switchStep k: Int) throws -> AccelerationOptions {
        points.options(enabling: try validated { try GenerationChoices.accelerations(accelerate) }, switchStep: k)
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
        GenerationChoices.accelerationOptions(enabling: enabled, switchStep: k, cachePoint: cachePoint, skipPoint: skipPoint,
                                              refreshInterval: refreshInterval)
    }
}

/// Runs a reading of settings, turning its `ChoiceError` into the command line's usage error.
func validated<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ChoiceError { throw ValidationError(error.message) }
}
