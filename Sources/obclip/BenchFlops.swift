import ArgumentParser
import DeviceClient
import Diffusion
import Foundation
import Privacy
import TensorCore
import WireProtocol

/// `obclip bench flops`: the method's Table 7 (server FLOPs per generation, SD-v1.4 +
/// BK-SDM-small, or SDXL + KOALA-700M at 1024²) counted through the code that really runs — the server backend with its
/// accelerations and the device denoiser, on random-weight architectures, with kernels
/// tallying multiply-adds instead of computing.
struct BenchFlops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flops",
        abstract: "Print the method's Table 7 (T multiply-adds per generation) counted through the real server and device code paths.")

    @Option(help: "Server UNet architecture (SD-v1.4 has SD 1.5's architecture).") var serverArch = "sd15"
    @Option(help: "Device UNet architecture.") var deviceArch = "bk-sdm-small"
    @Option(help: "Image side in pixels.") var size = 512
    @Option(help: "Total steps T.") var steps = 25
    @Option(help: "Scheduler.") var scheduler = "dpm++2m"
    @Option(help: "Classifier-free guidance scale (guidance doubles the UNet batch).") var guidance: Float = 7.5
    @Option(help: "A prompt with N = 6 candidates under the default taxonomy (gender × age).")
    var prompt6 = "a portrait photo of a young woman reading a book in a park"
    @Option(help: "A prompt with N = 4 candidates under the extended taxonomy (disability).")
    var prompt4 = "a portrait photo of a blind person reading a book in a park"
    @Option(help: "Packing of the random weights (counts do not depend on it; bf16 halves the memory of the SDXL family's 2.6 B + 0.8 B UNet parameters).")
    var precision = Precision.fp32

    /// Table 7's rows as printed for the server's family, columns (k, N) = (5, 4), (5, 6), (10, 4), (10, 6).
    static func paper(_ family: ModelFamily) -> [(row: String, values: [Double])] { family == .sdxl ? paperSDXL : paperSD }

    /// Table 7's SDXL + KOALA-700M rows (1024²).
    static let paperSDXL: [(row: String, values: [Double])] = [
        ("server-only", [159.35, 159.35, 159.35, 159.35]), ("Hybrid SD", [31.87, 31.87, 63.74, 63.74]),
        ("vanilla oblivious", [637.40, 956.10, 637.40, 956.10]), ("ObCLIP", [127.48, 191.22, 254.96, 382.44]),
        ("+ cache", [97.62, 146.44, 180.42, 270.62]), ("+ reuse", [86.32, 128.38, 165.34, 246.55]),
        ("total (+device)", [133.40, 175.46, 200.65, 281.86]),
    ]

    /// Table 7's SD-v1.4 + BK-SDM-small rows (512²).
    static let paperSD: [(row: String, values: [Double])] = [
        ("server-only", [18.53, 18.53, 18.53, 18.53]), ("Hybrid SD", [3.71, 3.71, 7.41, 7.41]),
        ("vanilla oblivious", [74.10, 111.15, 74.10, 111.15]), ("ObCLIP", [14.82, 22.23, 29.64, 44.46]),
        ("+ cache", [12.25, 18.38, 23.36, 35.04]), ("+ reuse", [11.13, 16.64, 21.86, 32.72]),
        ("total (+device)", [19.85, 25.36, 28.40, 39.26]),
    ]
    static let columns = [(k: 5, n: 4), (k: 5, n: 6), (k: 10, n: 4), (k: 10, n: 6)]

    func run() async throws {
        guard let serverConfiguration = UNetConfiguration.preset(named: serverArch), UNetConfiguration.preset(named: deviceArch) != nil else {
            throw ValidationError("--server-arch and --device-arch must be among \(UNetConfiguration.presetNames.joined(separator: ", "))")
        }
        let family = ModelFamily(serverConfiguration)
        stderr("building random-weight \(serverArch) (server) and \(deviceArch) (device) with their family's text encoders (\(family.rawValue))")
        let pair = try InProcessPair(server: .randomWeights(unet: serverArch), device: .randomWeights(unet: deviceArch), precision: precision)
        let sets = [4: try Obfuscator(taxonomy: .bundled("extended")).obfuscate(prompt4), 6: try Obfuscator().obfuscate(prompt6)]
        for (n, set) in sets.sorted(by: { $0.key < $1.key }) {
            guard set.candidates.count == n else { throw ValidationError("the N = \(n) prompt has \(set.candidates.count) candidates") }
            print("N = \(n): \(set.candidates.joined(separator: " | "))")
        }

        var ours: [String: [Double]] = [:]
        var shared: [Int] = []
        for column in Self.columns {
            let set = sets[column.n]!
            let base = GenerationSettings(steps: steps, switchStep: column.k, scheduler: scheduler, guidanceScale: guidance,
                                          width: size, height: size)
            func server(_ mode: GenerationMode, _ acceleration: AccelerationOptions = .off) async throws -> (Double, GenerationResponse) {
                var settings = base
                settings.acceleration = acceleration
                let response = try await FLOPMeter(countOnly: true).measure { try await pair.serve(set, mode: mode, settings: settings, seed: 0)! }
                return (Double(response.accounting.executedMultiplyAdds) / 1e12, response)
            }
            let method = AccelerationOptions.method(switchStep: column.k)
            var cacheOnly = method
            cacheOnly.reuse = false
            let (reused, response) = try await server(.obclip, method)
            let deviceMACs = try FLOPMeter(countOnly: true).measure {
                Double(try pair.finish(set, after: response, settings: base, seed: 0).multiplyAdds) / 1e12
            }
            shared.append(response.accounting.sharedAttentionMaps)
            let rows: [(String, Double)] = [
                ("server-only", try await server(.serverOnly).0), ("Hybrid SD", try await server(.hybrid).0),
                ("vanilla oblivious", try await server(.vanillaOblivious).0), ("ObCLIP", try await server(.obclip).0),
                ("+ cache", try await server(.obclip, cacheOnly).0), ("+ reuse", reused), ("total (+device)", reused + deviceMACs),
            ]
            for (row, value) in rows { ours[row, default: []].append(value) }
            stderr("  counted k = \(column.k), N = \(column.n)")
        }

        print("\nTable 7, \(serverArch) + \(deviceArch), \(size)×\(size), \(steps) \(scheduler) steps, guidance \(guidance): T multiply-adds per generation")
        print("(the paper's \"FLOPs\" are multiply-add counts: SD-v1.4 18.53 T = 25 steps × 2 (CFG) × 0.371 T; SDXL 159.35 T = 25 × 2 × 3.19 T)")
        print("ours / paper (ratio); + cache = attention cache and block skip, + reuse = all three; method (r, s) = (3, 3) for k = 5, (4, 6) for k = 10")
        let header = Self.columns.map { "k=\($0.k), N=\($0.n)".padding(toLength: 23, withPad: " ", startingAt: 0) }.joined(separator: "| ")
        print("method".padding(toLength: 18, withPad: " ", startingAt: 0) + "| " + header)
        for (row, paper) in Self.paper(family) {
            let cells = zip(ours[row]!, paper).map { ours, paper in
                String(format: "%6.2f / %6.2f (%.2f)", ours, paper, ours / paper).padding(toLength: 23, withPad: " ", startingAt: 0)
            }
            print(row.padding(toLength: 18, withPad: " ", startingAt: 0) + "| " + cells.joined(separator: "| "))
        }
        print("attention maps shared by batch reuse (+ reuse row): " + zip(Self.columns, shared).map { "k=\($0.k),N=\($0.n): \($1)" }.joined(separator: ", "))
        print("counts include the text encoder (server: N prompts + the negative; device: 2 prompts), not the VAE")
    }
}
