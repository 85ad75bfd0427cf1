import ArgumentParser
import Diffusion
import Foundation
import PortraitWorld

/// `obclip world`: dumps the procedural portrait world as a training set for
/// `tools/train_demo_models.py`.
struct World: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a dataset of the procedural portrait world: images.u8 (raw NHWC uint8, 64×64 RGB) and captions.jsonl.")

    @Option(help: "Number of portraits.") var count = 1000
    @Option(help: "World seed (the same seed always gives the same dataset).") var seed: UInt64 = 0
    @Option(help: "Output directory (created if needed).") var out: String
    @Option(help: "Also write a PNG contact sheet of the first portraits, this many per side (0: none).") var sheet = 8

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be ≥ 1, got \(count)") }
        guard sheet >= 0 else { throw ValidationError("--sheet must be ≥ 0, got \(sheet)") }
    }

    /// One `captions.jsonl` line: the caption and the labels the training script and `check` use.
    struct Record: Codable {
        let index: Int
        let caption: String
        let portrait: Portrait
    }

    /// The records of a dataset written by this command.
    static func records(in directory: URL) throws -> [Record] {
        let text = try String(contentsOf: directory.appendingPathComponent("captions.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let world = PortraitWorld(seed: seed)
        var images = Data(capacity: count * PortraitLayout.size * PortraitLayout.size * 3)
        var captions = Data()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var samples: [RGBImage] = []
        for i in 0..<count {
            let sample = world.sample(i)
            images.append(contentsOf: sample.image.pixels)
            captions.append(try encoder.encode(Record(index: i, caption: sample.caption, portrait: sample.portrait)))
            captions.append(0x0A)
            if samples.count < sheet * sheet { samples.append(sample.image) }
        }
        try images.write(to: directory.appendingPathComponent("images.u8"))
        try captions.write(to: directory.appendingPathComponent("captions.jsonl"))
        var written = "images.u8, captions.jsonl"
        if sheet > 0 {
            try PNGEncoder.write(ContactSheet(images: samples, columns: sheet).image.tensor, to: directory.appendingPathComponent("sheet.png"))
            written += ", sheet.png"
        }
        print("wrote \(count) portraits (seed \(seed)) to \(directory.path): \(written)")
    }
}
