import ArgumentParser
import DeviceClient
import Diffusion
import Foundation
import PortraitWorld
import Privacy

/// `obclip eval`: the method's quality tables (its Table 2 for 1 and 2 sensitive attributes, its
/// 3-attribute table) in the portrait world. Prompts and their true attributes come from the
/// world generator; every row generates the same prompts with the same seeds over a loopback
/// server, and is scored by the attribute checker and a Fréchet distance to the world's own
/// images. The prompts always name gender, age and ethnicity; `--sensitive` says which of them
/// the privacy engine hides (N = 2, 6 or 30 candidates), the others reach the server as written.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score generation modes on portrait-world prompts: attribute accuracy, Fréchet distance, server and device cost.")

    @Option(help: "Directory with demo-server/ and demo-device/ (default: the bundled Models/).")
    var models: String?

    @Option(help: "Prompts (each generated once per row).") var count = 100
    @Option(help: "World seed the prompts come from.") var worldSeed: UInt64 = 1000
    @Option(help: "Total denoising steps T.") var steps = 25
    @Option(help: "Classifier-free guidance scale.") var guidance: Float = 7.5
    @Option(parsing: .upToNextOption, help: "Rows, as MODE[:k][+reuse][+cache][+skip].")
    var rows: [EvalRow] = EvalRow.baseline.compactMap(EvalRow.init(argument:))
    @Option(parsing: .upToNextOption, help: "The default taxonomy's attributes the privacy engine hides (gender: N = 2; gender age: N = 6; gender age ethnicity: N = 30).")
    var sensitive: [String] = AttributeScore.Attribute.sensitive.map(\.rawValue)
    @Option(help: "Also write each row's first images as a contact sheet into this directory.") var sheets: String?

    func validate() throws {
        guard count >= 2 else { throw ValidationError("--count must be ≥ 2 (the Fréchet distance needs a covariance)") }
        guard steps >= 1 else { throw ValidationError("--steps must be ≥ 1") }
        for row in rows where row.switchStep > steps { throw ValidationError("row \(row): k > --steps \(steps)") }
        _ = try hidden()
    }

    /// The checker's attributes that `--sensitive` names, in the checker's order.
    private func hidden() throws -> [AttributeScore.Attribute] {
        let known = AttributeScore.Attribute.sensitive
        for name in sensitive where !known.map(\.rawValue).contains(name) {
            throw ValidationError("--sensitive \(name): choose among \(known.map(\.rawValue).joined(separator: ", "))")
        }
        guard !sensitive.isEmpty else { throw ValidationError("--sensitive needs at least one attribute") }
        return known.filter { sensitive.contains($0.rawValue) }
    }

    /// The default taxonomy with only the hidden attributes: the words of the others are left
    /// in the prompt.
    private func taxonomy(hiding attributes: [AttributeScore.Attribute]) -> Taxonomy {
        var taxonomy = Taxonomy.standard()
        taxonomy.attributes.removeAll { attribute in !attributes.contains { $0.rawValue == attribute.name } }
        return taxonomy
    }

    func run() async throws {
        let hidden = try hidden()
        let obfuscator = Obfuscator(taxonomy: taxonomy(hiding: hidden))
        let models = try DemoModels.trained(in: models.map { URL(fileURLWithPath: $0) } ?? DemoModels.bundledDirectory)
        let world = PortraitWorld(seed: worldSeed)
        let samples = (0..<count).map(world.sample)
        let realFeatures = samples.map { ImageFeatures.pooledColours($0.image) }
        // The reference row: the world's own images, scored by the checker and compared with
        // as many other world images (the FD floor for this many samples).
        var reference = EvalResult(name: "world images (reference)", hidden: hidden)
        for sample in samples { reference.add(read: try AttributeChecker.read(sample.image), truth: sample.portrait.attributes, report: nil) }
        reference.frechet = try FrechetDistance.between(realFeatures, (count..<(2 * count)).map { ImageFeatures.pooledColours(world.sample($0).image) })
        var results = [reference]
        let server = try await models.startLoopbackServer()
        let cloud = CloudClient(server: URL(string: "http://127.0.0.1:\(server.port)")!)
        do {
            for row in rows {
                let generator = HybridGenerator(obfuscator: obfuscator, device: models.device, cloud: row.mode == .deviceOnly ? nil : cloud)
                var result = EvalResult(name: row.description, hidden: hidden)
                var images: [RGBImage] = []
                for (i, sample) in samples.enumerated() {
                    let outcome = try await generator.generate(prompt: sample.caption, mode: row.mode,
                                                               settings: row.settings(steps: steps, guidance: guidance, size: PortraitLayout.size),
                                                               seed: UInt64(i))
                    let image = try RGBImage(outcome.image)
                    result.add(read: try AttributeChecker.read(image), truth: sample.portrait.attributes, report: outcome.report)
                    result.features.append(ImageFeatures.pooledColours(image))
                    if images.count < 64 { images.append(image) }
                    stderr("\(row): \(i + 1)/\(count)")
                }
                result.frechet = try FrechetDistance.between(realFeatures, result.features)
                if let sheets { try writeSheet(images, row: row, directory: sheets) }
                results.append(result)
            }
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
        let n = try obfuscator.obfuscate(samples[0].caption).candidates.count
        print("\(count) portrait-world prompts (world seed \(worldSeed)), T = \(steps), guidance \(guidance), 64×64; "
              + "hidden: \(hidden.map(\.rawValue).joined(separator: " × ")) (N = \(n)); "
              + "accuracy = the checker reads the prompt's attribute; FD on 4×4 pooled colours vs the world's images")
        print(EvalResult.header)
        for result in results { print(result.line(count: count)) }
    }

    private func writeSheet(_ images: [RGBImage], row: EvalRow, directory: String) throws {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let name = row.description.replacingOccurrences(of: ":", with: "-k").replacingOccurrences(of: "+", with: "-")
        try PNGEncoder.write(ContactSheet(images: images, columns: 8).image.tensor, to: url.appendingPathComponent("\(name).png"))
    }
}

/// One row's running totals.
private struct EvalResult {
    let name: String
    /// The attributes the privacy engine hid: the "sensitive" column.
    let hidden: [AttributeScore.Attribute]
    var score = AttributeScore()
    var features: [[Double]] = []
    var frechet = 0.0
    var serverFLOPs = 0.0, deviceFLOPs = 0.0, serverSeconds = 0.0, deviceSeconds = 0.0

    init(name: String, hidden: [AttributeScore.Attribute]) {
        self.name = name
        self.hidden = hidden
    }

    mutating func add(read: PortraitAttributes, truth: PortraitAttributes, report: GenerationReport?) {
        score.add(read: read, truth: truth)
        guard let report else { return }
        serverFLOPs += report.server.map { 2 * Double($0.executedMultiplyAdds) } ?? 0
        serverSeconds += report.server?.phaseSeconds["total"] ?? 0
        deviceFLOPs += report.device.executedFLOPs
        deviceSeconds += report.device.phaseSeconds.values.reduce(0, +)
    }

    static let header = "mode                          | sensitive | non-sens. | gend. age   eth.  shirt bg    acc.  | FD     | server GFLOP  s    | device GFLOP  s"

    func line(count: Int) -> String {
        let n = Double(count)
        let each = AttributeScore.Attribute.allCases.map { String(format: "%.2f", score.accuracy($0)) }.joined(separator: "  ")
        return name.padding(toLength: 30, withPad: " ", startingAt: 0)
            + String(format: "| %.3f     | %.3f     | ", score.accuracy(hidden),
                     score.accuracy(AttributeScore.Attribute.nonSensitive)) + each
            + String(format: "  | %-6.3f | %10.3f %6.2f | %10.3f %6.2f", frechet, serverFLOPs / n / 1e9, serverSeconds / n,
                     deviceFLOPs / n / 1e9, deviceSeconds / n)
    }
}
