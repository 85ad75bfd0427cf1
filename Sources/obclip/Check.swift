import ArgumentParser
import Foundation
import PortraitWorld

/// `obclip check`: the attribute checker on a file of images against a world dataset's labels.
/// The training script uses it as its first gate: if the checker cannot read the attributes
/// back from the VAE's reconstructions of world images, no UNet on that VAE can draw them.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score images with the attribute checker against the labels of an `obclip world` dataset.")

    @Option(help: "Directory written by `obclip world` (its captions.jsonl holds the true attributes).") var data: String
    @Option(help: "Raw 64×64 RGB images in the layout of images.u8, one per caption line, in order (default: the dataset's own images.u8).")
    var images: String?
    @Flag(help: "Print one JSON object (accuracy per attribute, sensitive, non-sensitive, count) instead of a table.") var json = false

    func run() throws {
        let directory = URL(fileURLWithPath: data, isDirectory: true)
        let records = try World.records(in: directory)
        let path = images ?? directory.appendingPathComponent("images.u8").path
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let side = PortraitLayout.size, imageBytes = side * side * 3
        guard bytes.count == records.count * imageBytes else {
            throw ValidationError("\(path) has \(bytes.count) bytes; \(records.count) captions need \(records.count) × \(imageBytes) = \(records.count * imageBytes)")
        }
        var score = AttributeScore()
        for (i, record) in records.enumerated() {
            let image = try RGBImage(width: side, height: side, pixels: Array(bytes[(i * imageBytes)..<((i + 1) * imageBytes)]))
            score.add(read: try AttributeChecker.read(image), truth: record.portrait.attributes)
        }
        var result = Dictionary(uniqueKeysWithValues: AttributeScore.Attribute.allCases.map { ($0.rawValue, score.accuracy($0)) })
        result["sensitive"] = score.accuracy(AttributeScore.Attribute.sensitive)
        result["non-sensitive"] = score.accuracy(AttributeScore.Attribute.nonSensitive)
        if json {
            result["count"] = Double(score.count)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("\(score.count) images of \(path), checker vs the labels in \(directory.path):")
            for key in AttributeScore.Attribute.allCases.map(\.rawValue) + ["sensitive", "non-sensitive"] {
                print("  " + key.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%.3f", result[key]!))
            }
        }
    }
}
