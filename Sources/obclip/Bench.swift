import ArgumentParser

/// `obclip bench …`: benchmarks that print figures (never pass/fail), each measured next to its
/// peer in the same run where one exists.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernel and model speed (benchmarks, not tests).",
        subcommands: [BenchGEMM.self, BenchConv.self, BenchUNet.self, BenchVAE.self, BenchTextEncoder.self, BenchFlops.self, BenchFidelity.self, BenchModes.self, BenchScale.self, BenchLoad.self]
    )
}
