import ArgumentParser
import DeviceClient
import Diffusion
import Foundation
import Privacy
import TensorCore
import WireProtocol

/// `obclip bench fidelity`: what each server acceleration costs in output and saves in time —
/// for one seed and candidate set, each configuration's server seconds, executed FLOPs and the
/// relative L2 difference of the returned latents (all N) and of the real candidate's decoded
/// image against the same run with accelerations off.
struct BenchFidelity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fidelity",
        abstract: "Measure each server acceleration's speed-up and output difference (relative L2) against the unaccelerated run.")

    @OptionGroup var pair: PairOptions
    @Option(help: "Configurations to run after 'off', comma-separated: reuse, cache, skip, cache+skip, all.")
    var configurations = "reuse,cache,skip,cache+skip,all"
    @OptionGroup var points: AccelerationPoints
    @Flag(help: "Compare only the server's latents (skip the device steps and the VAE).") var latentsOnly = false

    func options(_ name: String) throws -> AccelerationOptions {
        let parts = name == "all" ? ["reuse", "cache", "skip"] : name.split(separator: "+").map(String.init)
        guard !parts.isEmpty, Set(parts).isSubset(of: GenerationChoices.accelerationNames) else {
            throw ValidationError("unknown configuration '\(name)'; use reuse, cache, skip, combinations with + (cache+skip), or all")
        }
        return points.options(enabling: Set(parts), switchStep: pair.switchStep)
    }

    func run() async throws {
        let runs = try [("off", AccelerationOptions.off)] + configurations.split(separator: ",").map { (String($0), try options(String($0))) }
        stderr("loading \(pair.model) (server) and \(pair.deviceModel) (device)")
        let models = try InProcessPair(server: ModelSource(argument: pair.model), device: ModelSource(argument: pair.deviceModel))
        let set = try Obfuscator().obfuscate(pair.prompt)
        print("candidates (N = \(set.candidates.count)): \(set.candidates.joined(separator: " | "))")
        print("\(pair.model) server + \(pair.deviceModel) device, \(pair.summary), refresh interval \(points.refreshInterval)")
        print("configuration | r | s | server s | speed-up | server TFLOP | shared maps | rel L2 latents | rel L2 image")
        // One unmeasured server step first, so the first configuration does not pay for the
        // first touch of every activation buffer.
        var warmUp = try pair.settings(.off)
        warmUp.switchStep = 1
        _ = try await models.serve(set, mode: .obclip, settings: warmUp, seed: pair.seed)
        var reference: (latents: Tensor, image: Tensor?, seconds: Double)?
        for (name, acceleration) in runs {
            let settings = try pair.settings(acceleration)
            stderr("running \(name)")
            let response = try await models.serve(set, mode: .obclip, settings: settings, seed: pair.seed)!
            let seconds = response.accounting.phaseSeconds["denoising"] ?? 0
            let latents = Tensor(shape: response.latents.shape, scalars: response.latents.scalars)
            let image = latentsOnly ? nil : try models.device.decode(models.finish(set, after: response, settings: settings, seed: pair.seed).latent)
            if reference == nil { reference = (latents, image, seconds) }
            let base = reference!
            let imageDifference = if let image, let baseImage = base.image { String(format: "%.4f", relativeL2(image, baseImage)) } else { "–" }
            let rs = acceleration == .off ? ("–", "–") : ("\(acceleration.cachePoint)", "\(acceleration.skipPoint)")
            print([name, rs.0, rs.1, format(seconds), String(format: "%.2f×", base.seconds / seconds),
                   format(response.accounting.executedFLOPs / 1e12), "\(response.accounting.sharedAttentionMaps)",
                   String(format: "%.4f", relativeL2(latents, base.latents)), imageDifference]
                .joined(separator: " | "))
        }
    }
}

/// ‖a − b‖ / ‖b‖.
func relativeL2(_ a: Tensor, _ b: Tensor) -> Double {
    var difference = 0.0, norm = 0.0
    for (x, y) in zip(a.scalars, b.scalars) {
        difference += Double(x - y) * Double(x - y)
        norm += Double(y) * Double(y)
    }
    return (difference / max(norm, .leastNonzeroMagnitude)).squareRoot()
}
