import Foundation
import TensorCore

/// A long phase of image generation, for progress reporting and per-phase cost reports.
public enum GenerationPhase: Sendable, Equatable, CustomStringConvertible {
    case textEncoder
    /// Denoising with UNet `model` (0: the main/server UNet, 1: the device UNet after the switch).
    case unet(model: Int)
    case vae

    public var description: String {
        switch self {
        case .textEncoder: return "text encoder"
        case .unet(let model): return model == 0 ? "unet" : "device unet"
        case .vae: return "vae"
        }
    }
}

/// One progress event: `completed` of `total` units of `phase` are done.
public struct GenerationProgress: Sendable, Equatable {
    public let phase: GenerationPhase
    public let completed: Int
    public let total: Int
}

/// Receives progress events; returning `false` cancels the generation, which then throws
/// `GenerationCancelled` at the next phase or step boundary.
public typealias GenerationProgressHandler = (GenerationProgress) -> Bool

/// Thrown when a progress handler asked to stop.
public struct GenerationCancelled: Error, CustomStringConvertible {
    public let phase: GenerationPhase
    public var description: String { "generation cancelled during \(phase)" }
}

/// Wall-clock seconds and executed FLOPs of one generation phase.
public struct PhaseCost: Sendable, Equatable {
    public let phase: GenerationPhase
    public var seconds: Double
    public var flops: Double
}

extension PhaseCost {
    /// Runs `body` under its own FLOP meter (count-only if the enclosing one is), passes the
    /// counts on to any enclosing meter so outer accounting stays complete, and returns the
    /// result with the phase's cost.
    static func measuring<T>(_ phase: GenerationPhase, _ body: () throws -> T) rethrows -> (T, PhaseCost) {
        let meter = FLOPMeter(countOnly: FLOPMeter.isCountOnly)
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try meter.measure(body)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        for kind in FLOPMeter.Kind.allCases where meter.multiplyAdds(of: kind) > 0 {
            FLOPMeter.record(kind, multiplyAdds: meter.multiplyAdds(of: kind))
        }
        return (result, PhaseCost(phase: phase, seconds: seconds, flops: meter.flops))
    }
}
