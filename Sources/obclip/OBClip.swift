import ArgumentParser

@main
struct OBClip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obclip",
        abstract: "Private hybrid image generation: a cloud diffusion model that never learns your prompt's sensitive attributes.",
        subcommands: [Bench.self]
    )
}
