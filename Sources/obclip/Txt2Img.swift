import ArgumentParser
import Diffusion
import Foundation
import SafeTensors
import TensorCore

/// `obclip txt2img`: a prompt to a PNG with a diffusers SD1.x model directory, optionally
/// switching to a second (device) UNet after K steps, reproducing diffusers' latents for a seed.
struct Txt2Img: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txt2img",
        abstract: "Generate an image from a prompt with a diffusers Stable Diffusion 1.x model directory."
    )

    @Option(help: "Diffusers model directory (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/).")
    var model: String

    @Option(help: "Second model directory whose unet/ runs the steps from --switch on (Hybrid SD).")
    var deviceModel: String?

    @Option(name: .customLong("switch"), help: "UNet calls before this index use --model's UNet, the rest --device-model's.")
    var switchStep: Int?

    @Option(help: "Seed of the torch-compatible generator (same latents as diffusers with torch.Generator().manual_seed).")
    var seed: UInt64 = 0

    @Option(help: "Inference steps.")
    var steps = SchedulerKind.defaultSteps

    @Option(help: "Sampler: \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scheduler = SchedulerKind.default.rawValue

    @Option(help: "Classifier-free guidance scale (≤ 1 disables guidance).")
    var guidance: Float = 7.5

    @Option(help: "Image size WIDTHxHEIGHT in pixels.")
    var size = "512x512"

    @Option(help: "Images generated for the prompt (one batch).")
    var batch = 1

    @Option(help: "Negative prompt (the unconditional text of guidance).")
    var negativePrompt = ""

    @Option(help: "Output PNG path (with --batch > 1, an index is appended before the extension).")
    var output: String

    @Option(help: "Storage of the packed GEMM/convolution weights: \(Precision.allCases.map(\.rawValue).joined(separator: ", ")) (f16/bf16 halve weight memory; activations stay f32).")
    var precision = Precision.fp32

    @OptionGroup var micro: MicroConditioningArguments

    @Option(help: "Also save the final latents (before the VAE) as safetensors (tensor \"latents\", NCHW).")
    var latents: String?

    @Argument(help: "The prompt.")
    var prompt: String

    func parsedSize() throws -> (width: Int, height: Int) {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("--size must be WIDTHxHEIGHT, got \(size)") }
        return (parts[0], parts[1])
    }

    func validate() throws {
        _ = try parsedSize()
        do { _ = try SchedulerKind(name: scheduler) } catch { throw ValidationError("\(error)") }
        guard steps >= 1, batch >= 1 else { throw ValidationError("--steps and --batch must be ≥ 1") }
        guard (deviceModel == nil) == (switchStep == nil) else { throw ValidationError("--device-model and --switch go together") }
        if let k = switchStep, k < 0 { throw ValidationError("--switch must be ≥ 0") }
    }

    func run() throws {
        let (width, height) = try parsedSize()
        let progress = ProgressBar()
        progress.message("loading \(model)\(deviceModel.map { " and \($0)" } ?? "")")
        let pipeline = try StableDiffusionPipeline(model: URL(fileURLWithPath: model), deviceModel: deviceModel.map { URL(fileURLWithPath: $0) },
                                                   precision: precision)
        let settings = DenoisingSettings(steps: steps, scheduler: try SchedulerKind(name: scheduler), guidanceScale: guidance,
                                         seed: seed, switchStep: switchStep,
                                         microConditioning: try micro.microConditioning(width: width, height: height))
        let result = try pipeline.generate(prompts: Array(repeating: prompt, count: batch), negativePrompt: negativePrompt,
                                           width: width, height: height, settings: settings) { progress.update($0); return true }
        if let latents {
            var writer = SafeTensorsWriter()
            try writer.add("latents", shape: result.latents.shape, scalars: result.latents.scalars)
            try writer.write(to: URL(fileURLWithPath: latents))
        }
        for i in 0..<batch {
            try PNGEncoder.write(result.images.slice(i, 1), to: URL(fileURLWithPath: Self.path(output, index: i, of: batch)))
        }
        let phases = result.costs.map { "\($0.phase) \(String(format: "%.1f", $0.seconds)) s \(String(format: "%.1f", $0.flops / 1e9)) GFLOP" }
        let total = result.costs.reduce(0) { $0 + $1.seconds }
        print("\(phases.joined(separator: " | ")) | total \(String(format: "%.1f", total)) s → \(batch == 1 ? output : Self.path(output, index: 0, of: batch) + " …")")
    }

    /// `out.png` → `out-3.png` for image 3 of a batch.
    static func path(_ output: String, index: Int, of count: Int) -> String {
        guard count > 1 else { return output }
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        return url.deletingPathExtension().path + "-\(index)." + ext
    }
}

/// A one-line progress bar per phase on stderr (stdout carries only the summary).
private final class ProgressBar {
    private var current: GenerationPhase?
    private var lineOpen = false

    func message(_ text: String) { FileHandle.standardError.write(Data("\(text)\n".utf8)) }

    func update(_ p: GenerationProgress) {
        let width = 30, filled = p.total > 0 ? width * p.completed / p.total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        // A switch of UNet mid-loop leaves the previous bar unfinished: end its line first.
        if lineOpen && current != p.phase { FileHandle.standardError.write(Data("\n".utf8)) }
        var line = "\r\(String(describing: p.phase).padding(toLength: 12, withPad: " ", startingAt: 0)) [\(bar)] \(p.completed)/\(p.total)"
        lineOpen = p.completed != p.total
        if !lineOpen { line += "\n" }
        current = p.phase
        FileHandle.standardError.write(Data(line.utf8))
    }
}
