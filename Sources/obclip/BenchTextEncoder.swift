import ArgumentParser
import Diffusion
import Foundation
import TensorCore

/// `obclip bench text-encoder`: seconds per CLIP text-encoder forward (77 tokens per prompt)
/// for the real ViT-L/14 architecture with synthesised weights, or a model directory's own.
struct BenchTextEncoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text-encoder",
        abstract: "Time one CLIP text-encoder forward (ViT-L/14, random weights) and report executed GFLOP and GFLOP/s."
    )

    @Option(help: "Prompts per forward (with classifier-free guidance SD encodes 2 per image).")
    var batch = 1

    @Option(help: "A diffusers model directory whose text_encoder/ to time instead of random ViT-L/14 weights.")
    var model: String?

    @OptionGroup var options: ModelBenchOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be ≥ 1") }
    }

    func run() throws {
        let (encoder, buildSeconds) = try timed { () throws -> CLIPTextModel in
            if let model {
                let directory = try ModelDirectory(URL(fileURLWithPath: model)).directory(of: .textEncoder)
                return try CLIPTextModel(directory: directory, precision: options.precision)
            }
            return try CLIPTextModel(configuration: .vitL14, weights: .random(seed: 1, precision: options.precision))
        }
        let c = encoder.configuration
        let tokenizer = try CLIPTokenizer.bundled()
        let prompt = "a photograph of an astronaut riding a horse on the moon, highly detailed, 8k"
        let ids = Array(repeating: tokenizer.encode(prompt, length: c.maxPositionEmbeddings).map { min($0, c.vocabSize - 1) }, count: batch)
        print("text encoder \(model ?? "ViT-L/14 (random weights)"): \(c.numHiddenLayers) layers, hidden \(c.hiddenSize), "
              + "built in \(format(buildSeconds)) s; batch \(batch) × \(c.maxPositionEmbeddings) tokens, threads \(Parallel.threads)")
        try options.report(label: "text encoder", batch: batch) {
            _ = try encoder.lastHiddenState(tokenIDs: ids)
        }
    }
}
