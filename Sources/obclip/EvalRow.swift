import ArgumentParser
import DeviceClient
import WireProtocol

/// One row of `obclip eval`: who runs which steps, and which server accelerations.
///
/// Written `MODE[:k][+ACCELERATION…]`: `server-only`, `device-only`, `hybrid:10`, `obclip:5`,
/// `obclip:10+reuse`, `obclip:10+reuse+cache`, `obclip:10+reuse+cache+skip`. Each acceleration
/// switches on one part of the method's configuration for that k
/// (`AccelerationOptions.method(switchStep:)`: its cache and skip points).
struct EvalRow: ExpressibleByArgument, CustomStringConvertible {
    let mode: GenerationMode
    let switchStep: Int
    let acceleration: AccelerationOptions
    let description: String

    /// The method's Table 2 rows that need no server acceleration.
    static let baseline = ["server-only", "device-only", "hybrid:5", "hybrid:10", "obclip:5", "obclip:10"]

    init?(argument: String) {
        let parts = argument.split(separator: "+").map(String.init)
        let head = parts[0].split(separator: ":").map(String.init)
        guard let mode = GenerationMode(rawValue: head[0]), head.count <= 2 else { return nil }
        let k: Int
        switch mode {
        case .serverOnly, .deviceOnly, .vanillaOblivious:
            guard head.count == 1 else { return nil }
            k = 0
        case .hybrid, .obclip:
            guard head.count == 2, let value = Int(head[1]), value >= 1 else { return nil }
            k = value
        }
        var options = AccelerationOptions.method(switchStep: max(k, 1))
        (options.reuse, options.cache, options.skip) = (false, false, false)
        for name in parts.dropFirst() {
            switch name {
            case "reuse": options.reuse = true
            case "cache": options.cache = true
            case "skip": options.skip = true
            default: return nil
            }
        }
        guard parts.count == 1 || mode == .obclip || mode == .hybrid else { return nil }
        self.mode = mode
        switchStep = k
        acceleration = parts.count == 1 ? .off : options
        description = argument
    }

    static var defaultValueDescription: String { baseline.joined(separator: " ") }

    /// The generation settings of this row for `steps` total steps (k ≤ steps).
    func settings(steps: Int, guidance: Float, size: Int) -> GenerationSettings {
        GenerationSettings(steps: steps, switchStep: min(switchStep, steps), scheduler: "dpm++2m", guidanceScale: guidance,
                           width: size, height: size, acceleration: acceleration)
    }
}
