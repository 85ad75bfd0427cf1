import ArgumentParser
import Diffusion
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// `obclip bench unet`: seconds per UNet forward for a built-in architecture with random
/// weights, the FLOPs the kernels executed, and the effective rate.
struct BenchUNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unet",
        abstract: "Time one UNet forward (random weights) and report executed GFLOP and GFLOP/s."
    )

    @Option(help: "Architecture: \(UNetConfiguration.presetNames.joined(separator: ", ")).")
    var arch = "sd15"

    @Option(help: "Batch size (with classifier-free guidance a step is batch 2 per image).")
    var batch = 1

    @Option(help: "Image size in pixels (latents are size/8 square).")
    var size = 512

    @Option(help: "Timed forwards (after building the model); the report gives the mean.")
    var repeats = 1

    @Flag(help: "Only count FLOPs (kernels skip arithmetic): checks the cost model in seconds.")
    var countOnly = false

    func validate() throws {
        guard UNetConfiguration.preset(named: arch) != nil else {
            throw ValidationError("unknown --arch \(arch); choose one of \(UNetConfiguration.presetNames.joined(separator: ", "))")
        }
        guard batch >= 1, repeats >= 1 else { throw ValidationError("--batch and --repeats must be ≥ 1") }
        guard size >= 64, size % 64 == 0 else { throw ValidationError("--size must be a positive multiple of 64") }
    }

    func run() throws {
        let configuration = UNetConfiguration.preset(named: arch)!
        let (unet, buildSeconds) = try timed { try UNet2DConditionModel(configuration: configuration, weights: .random(seed: 1)) }
        let latentSize = size / 8
        let latents = Tensor(shape: [batch, configuration.inChannels, latentSize, latentSize],
                             scalars: (0..<(batch * configuration.inChannels * latentSize * latentSize)).map { sinf(Float($0) * 0.37) })
        let context = Tensor(shape: [batch, 77, configuration.crossAttentionDim],
                             scalars: (0..<(batch * 77 * configuration.crossAttentionDim)).map { cosf(Float($0) * 0.11) })
        print("unet \(arch): built in \(format(buildSeconds)) s; batch \(batch), \(size)×\(size) (latents \(latentSize)×\(latentSize)), threads \(Parallel.threads)")
        try reportForwards(label: "unet \(arch)", batch: batch, repeats: repeats, countOnly: countOnly) {
            _ = try unet(latents, timesteps: [500], encoderHiddenStates: context)
        }
    }
}

/// Runs `body` `repeats` times under a FLOP meter and prints seconds per forward, executed
/// GFLOP (per forward and per image), effective GFLOP/s and the process's peak resident memory.
func reportForwards(label: String, batch: Int, repeats: Int, countOnly: Bool, _ body: () throws -> Void) throws {
    let meter = FLOPMeter(countOnly: countOnly)
    let (_, seconds) = try timed { try meter.measure { for _ in 0..<repeats { try body() } } }
    let perForward = seconds / Double(repeats)
    let gflop = meter.flops / Double(repeats) / 1e9
    let kinds = FLOPMeter.Kind.allCases.map { "\($0.rawValue) \(format(2 * Double(meter.multiplyAdds(of: $0)) / Double(repeats) / 1e9))" }
    if countOnly {
        print("\(label): \(format(gflop)) GFLOP per forward (\(format(gflop / Double(batch))) per image; count only) [\(kinds.joined(separator: ", "))]")
    } else {
        print("\(label): \(format(perForward)) s per forward, \(format(gflop)) GFLOP executed (\(format(gflop / Double(batch))) per image), "
              + "\(format(gflop / perForward)) GFLOP/s, peak RSS \(format(peakResidentGiB())) GiB [\(kinds.joined(separator: ", "))]")
    }
}

/// Wall-clock seconds taken by `body`, with its result.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// The process's peak resident set size so far, in GiB.
func peakResidentGiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)   // ru_maxrss is in KiB on Linux
}

func format(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }
