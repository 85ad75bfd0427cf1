import ArgumentParser
import DeviceClient

@main
struct OBClip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obclip",
        abstract: "Private hybrid image generation: a cloud diffusion model that never learns your prompt's sensitive attributes.",
        subcommands: [Bench.self, Protect.self, AuditPrompts.self, Tokenize.self, Txt2Img.self, Serve.self, Generate.self, Demo.self, UI.self, World.self, Check.self, Eval.self]
    )

    /// ArgumentParser's own `main`, then the device's HTTP client is shut down (when a command
    /// used it), so no connection is left open to the process's exit.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
            try? await HTTPExchange.shutdown()
        } catch {
            try? await HTTPExchange.shutdown()
            exit(withError: error)
        }
    }
}
