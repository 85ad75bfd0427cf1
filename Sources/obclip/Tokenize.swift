import ArgumentParser
import Diffusion
import Foundation

/// `obclip tokenize`: CLIP token ids for prompts on stdin, for checking prompts against the
/// 77-token limit and for parity checks against transformers.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print CLIP token ids for each prompt read from stdin (one prompt per line, one JSON array per line)."
    )

    @Option(name: .long, help: "A diffusers model directory whose tokenizer/ to use (default: CLIP's bundled vocabulary).")
    var model: String?

    @Option(name: .long, help: "Ids per prompt, including start, end and padding tokens.")
    var length: Int = CLIPTokenizer.contextLength

    func validate() throws {
        guard length >= 2 else { throw ValidationError("--length must be at least 2 (start and end tokens)") }
    }

    func run() throws {
        let tokenizer: CLIPTokenizer
        if let model {
            tokenizer = try CLIPTokenizer(directory: ModelDirectory(URL(fileURLWithPath: model)).directory(of: .tokenizer))
        } else {
            tokenizer = try CLIPTokenizer.bundled()
        }
        while let line = readLine(strippingNewline: true) {
            let ids = tokenizer.encode(line, length: length)
            print("[" + ids.map(String.init).joined(separator: ", ") + "]")
        }
    }
}
