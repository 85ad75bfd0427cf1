import ArgumentParser

@main
struct OBClip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obclip",
        abstract: "Private hybrid image generation: a cloud diffusion model that never learns your prompt's sensitive attributes.",
        subcommands: [Bench.self, Protect.self, AuditPrompts.self, Tokenize.self, Txt2Img.self, Serve.self, Generate.self, Demo.self, UI.self, World.self, Check.self, Eval.self]
    )
}
