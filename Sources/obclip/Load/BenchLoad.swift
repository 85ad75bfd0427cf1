import ArgumentParser
import Foundation
import TensorCore

/// `obclip bench load`: the load and fault campaign on real `obclip serve` processes (loopback
/// only, bounded in clients and time), printed as the table of docs/RELIABILITY.md.
struct BenchLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load and fault campaign against obclip serve child processes on 127.0.0.1: burst, disconnects and slow clients, SIGKILL + restart, SIGTERM drain, over-memory, log audit.")

    @Option(help: "Server model directory (default: the bundled demo server model).")
    var model: String?

    @Option(help: "The servers' arithmetic (obclip serve --precision): fp32, f16 or bf16.")
    var precision = Precision.fp32

    @Option(help: "Concurrent clients of the burst.") var clients = 50
    @Option(help: "Queue bound of the burst's server.") var queue = 8
    @Option(help: "Misbehaving clients in all (disconnects, slow header/body, slow reader).") var misbehaving = 1000
    @Option(help: "Misbehaving clients at a time.") var concurrency = 100
    @Option(help: "The server's idle, body and write time-outs during the misbehaving run, in seconds.") var timeout = 1.0
    @Option(help: "Requests admitted when SIGTERM arrives.") var inFlight = 8
    @Option(help: "The drain deadline given to that server (--drain-seconds).") var drainSeconds = 30.0
    @Option(help: "Sizes of the memory-estimate scenario, comma-separated SIDExN (image side in pixels, candidates: the first N of the demo portrait's 30).")
    var estimateSizes = "64x1,64x4,256x4"
    @Option(help: "Scenarios to run, comma-separated, from \(Self.scenarios.joined(separator: ",")) (the log audit always runs last).")
    var scenarios = Self.scenarios.joined(separator: ",")

    static let scenarios = ["burst", "disconnects", "kill", "drain", "memory", "estimate"]

    func validate() throws {
        let unknown = Set(scenarios.split(separator: ",").map(String.init)).subtracting(Self.scenarios)
        guard unknown.isEmpty else { throw ValidationError("unknown scenarios \(unknown.sorted()); known: \(Self.scenarios.joined(separator: ", "))") }
        _ = try sizes()
    }

    /// `--estimate-sizes` as (side, candidates) pairs.
    func sizes() throws -> [(side: Int, candidates: Int)] {
        try estimateSizes.split(separator: ",").map { item in
            let parts = item.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 8, parts[0] % 8 == 0, parts[1] >= 1 else {
                throw ValidationError("--estimate-sizes: '\(item)' is not SIDExN with a side divisible by 8 (e.g. 512x4)")
            }
            guard parts[1] <= LoadHarness.candidateSet.count else {
                throw ValidationError("--estimate-sizes: '\(item)' asks for \(parts[1]) candidates; the demo portrait has \(LoadHarness.candidateSet.count)")
            }
            return (parts[0], parts[1])
        }
    }

    func run() async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let harness = try LoadHarness(executable: executable, model: model ?? DemoModels.bundledDirectory.appendingPathComponent("demo-server").path,
                                      serverArguments: ["--precision", precision.rawValue])
        defer { try? FileManager.default.removeItem(at: harness.workDirectory) }
        print("| scenario | tried | outcome | result |\n|---|---|---|---|")
        var rows: [HarnessRow] = []
        func record(_ row: HarnessRow) {
            rows.append(row)
            print(row.markdown)
        }
        let started = Date()
        let chosen = Set(scenarios.split(separator: ",").map(String.init))
        if chosen.contains("burst") { record(try await harness.burst(clients: clients, queue: queue, distinct: 10)) }
        if chosen.contains("disconnects") {
            record(try await harness.disconnects(total: misbehaving, concurrency: concurrency, timeout: timeout))
        }
        if chosen.contains("kill") { record(try await harness.killAndRestart()) }
        if chosen.contains("drain") {
            record(try await harness.drain(inFlight: inFlight, drainSeconds: drainSeconds))
            record(try await harness.drain(inFlight: inFlight, drainSeconds: 0.5))
        }
        if chosen.contains("memory") { record(try await harness.overMemory()) }
        if chosen.contains("estimate") {
            for size in try sizes() { record(try await harness.memoryEstimate(side: size.side, candidates: size.candidates)) }
        }
        record(try harness.logAudit(variants: 0..<100))
        let failed = rows.filter { !$0.held }.count
        print("\n\(rows.count - failed) held, \(failed) failed, \(String(format: "%.0f", Date().timeIntervalSince(started))) s wall")
        if failed > 0 { throw ExitCode.failure }
    }
}
