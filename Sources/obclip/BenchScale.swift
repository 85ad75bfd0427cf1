import ArgumentParser
import DeviceClient
import Foundation
import LoopbackFleet
import Privacy
import WireProtocol

/// `obclip bench scale`: the deployment of `deploy/` on this machine — 1, 2, 3… `obclip serve`
/// replicas as processes behind nginx — under one fixed closed-loop client load, with
/// throughput, latency percentiles, server CPU and FLOPs per request for each replica count.
struct BenchScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Throughput (requests/min) and p50/p95 latency of 1, 2, 3… replicas behind nginx on loopback under a fixed client load.")

    @Option(help: "Server model of every replica: a diffusers directory or random:<architecture> (default: the bundled demo server model).")
    var model = FleetPaths.demoServerModel.path
    @Option(help: "Replica counts to measure, comma-separated.") var replicas = "1,2,3"
    @Option(help: "Requests per replica count (after one unmeasured warm-up request per replica).") var requests = 36
    @Option(help: "Concurrent clients (each sends its next request when the last is answered).") var concurrency = 6
    @Option(help: "The prompt whose oblivious candidate set every request carries (default: the demo's three-attribute portrait, N = 30).")
    var prompt = DemoModels.prompt
    @Option(help: "Image side in pixels.") var size = 64
    @Option(help: "Total steps T.") var steps = 25
    @Option(name: .customLong("switch-step"), help: "Server steps k.") var switchStep = 10
    @Option(help: "Worker threads per replica (OBCLIP_THREADS; default: the cores divided by the replicas, at least 1).")
    var threadsPerReplica: Int?
    @Option(help: "Queue capacity of each replica (obclip serve --queue).") var queue = 8

    func validate() throws {
        guard requests >= 1, concurrency >= 1 else { throw ValidationError("--requests and --concurrency must be ≥ 1") }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--replicas must list counts ≥ 1, e.g. 1,2,3") }
    }

    private var counts: [Int] { replicas.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() async throws {
        guard let nginx = FleetPaths.nginx() else { throw ValidationError("nginx not found (scripts/setup.sh installs Debian's nginx)") }
        guard let obclip = FleetPaths.sibling("obclip") else { throw ValidationError("cannot find this obclip executable via /proc/self/exe") }
        let set = try Obfuscator().obfuscate(prompt)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-bench-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        // Distinct users: one seed each, so no two requests can share a forward pass.
        let load = (0..<requests).map { i in
            GenerationRequest(candidates: set.candidates, seed: UInt64(i), steps: steps, switchStep: switchStep, width: size, height: size)
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        stderr("\(requests) requests per configuration, N = \(set.candidates.count), \(concurrency) concurrent clients, \(size)², T = \(steps), k = \(switchStep); model \(model)")

        var rows: [Row] = []
        for count in counts {
            let threads = threadsPerReplica ?? max(1, cores / count)
            stderr("starting \(count) replica(s), \(threads) thread(s) each, and nginx")
            let launch = ReplicaLaunch(executable: obclip, model: model,
                                       arguments: ["--queue", "\(queue)", "--max-side", "\(max(size, ServerLimits().maxSide))", "--log-level", "warning"],
                                       environment: ["OBCLIP_THREADS": "\(threads)"], lifetime: 3600,
                                       logDirectory: work)
            let fleet = try await ReplicaFleet.start(count: count, launch: launch, nginx: nginx,
                                                     workDirectory: work.appendingPathComponent("fleet-\(count)"))
            do {
                rows.append(try await measure(fleet, threads: threads, load: load))
            } catch {
                await fleet.stop()
                throw error
            }
            await fleet.stop()
        }
        print(report(rows, candidates: set.candidates.count, cores: cores))
    }

    struct Row {
        let replicas: Int, threads: Int, seconds: Double, latencies: [Double], cpuSeconds: Double, flops: Double, served: [Int]
        /// The largest peak RSS of one replica, bytes.
        let peakResident: Int
    }

    private func measure(_ fleet: ReplicaFleet, threads: Int, load: [GenerationRequest]) async throws -> Row {
        let client = CloudClient(server: fleet.url, retry: RetryPolicy(maxAttempts: 8, initialDelay: 0.2, maxDelay: 2))
        // Warm-up: one request per replica (first-touch memory, the buffer pool), not measured.
        var warmUp = load[0]
        warmUp.seed = .max
        _ = try await ClosedLoopLoad.run(Array(repeating: warmUp, count: fleet.replicas.count), client: client,
                                         concurrency: fleet.replicas.count)
        let before = await snapshot(fleet)
        let started = Date()
        let exchanges = try await ClosedLoopLoad.run(load, client: client, concurrency: concurrency)
        let seconds = Date().timeIntervalSince(started)
        let after = await snapshot(fleet)
        return Row(replicas: fleet.replicas.count, threads: threads, seconds: seconds, latencies: exchanges.map(\.seconds).sorted(),
                   cpuSeconds: after.cpu - before.cpu, flops: after.flops - before.flops,
                   served: zip(after.served, before.served).map { $0 - $1 },
                   peakResident: fleet.replicas.compactMap { $0.peakResidentBytes() }.max() ?? 0)
    }

    /// Replicas' CPU seconds, executed FLOPs and answered requests so far.
    private func snapshot(_ fleet: ReplicaFleet) async -> (cpu: Double, flops: Double, served: [Int]) {
        var cpu = 0.0, flops = 0.0, served: [Int] = []
        for replica in fleet.replicas {
            cpu += replica.cpuSeconds() ?? 0
            let text = await replica.metrics() ?? ""
            flops += PrometheusText.value(of: "obclip_executed_flops_total", in: text) ?? 0
            served.append(Int(PrometheusText.value(of: #"obclip_requests_total{outcome="ok"}"#, in: text) ?? 0))
        }
        return (cpu, flops, served)
    }

    private func report(_ rows: [Row], candidates: Int, cores: Int) -> String {
        func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))] }
        func perMinute(_ row: Row) -> Double { Double(row.latencies.count) / row.seconds * 60 }
        func cpuPerRequest(_ row: Row) -> Double { row.cpuSeconds / Double(row.latencies.count) }
        var lines = ["obclip bench scale --model \(model) --replicas \(replicas) --requests \(requests) --concurrency \(concurrency) "
                     + "--size \(size) --steps \(steps) --switch-step \(switchStep)",
                     "N = \(candidates) candidates per request, \(cores) cores on this machine; replicas behind nginx (deploy/nginx), loopback",
                     "", "replicas | threads each | wall s | req/min | vs first row | p50 s | p95 s | server CPU s/req | cores busy | GFLOP/req | peak RSS MiB (largest replica) | served per replica"]
        for row in rows {
            lines.append([String(row.replicas), String(row.threads), format(row.seconds), format(perMinute(row)),
                          String(format: "%.2f×", perMinute(row) / perMinute(rows[0])),
                          format(percentile(row.latencies, 0.5)), format(percentile(row.latencies, 0.95)),
                          format(cpuPerRequest(row)), format(row.cpuSeconds / row.seconds), format(row.flops / Double(row.latencies.count) / 1e9),
                          String(row.peakResident / (1 << 20)),
                          row.served.map(String.init).joined(separator: "/")].joined(separator: " | "))
        }
        // The cheapest row per request: the figure a cluster of replicas with their own cores scales.
        let best = rows.min { cpuPerRequest($0) < cpuPerRequest($1) }!
        let gflop = best.flops / Double(best.latencies.count) / 1e9
        lines += ["",
                  "Each row's throughput is (cores busy ÷ server CPU s per request) × 60. Here the replicas share \(cores) cores with everything",
                  "else on the machine: more replicas can raise the cores busy (they fill cores one replica's serial phases leave idle, and on",
                  "a contended machine more runnable threads get a larger share of it) and fewer threads per replica can lower the CPU per",
                  "request (fewer hand-offs); past \(cores) busy threads more replicas only queue. On a cluster each replica has its own cores,",
                  "so the projection uses CPU per request, not this machine's wall clock: a replica with c cores serves about",
                  "60 × c ÷ \(format(cpuPerRequest(best))) ≈ \(format(60 / cpuPerRequest(best))) × c req/min (the row with the least CPU per request: \(best.replicas) × \(best.threads)",
                  "thread(s)), and R replicas R times that while the balancer keeps up. Cost per request:",
                  "\(format(gflop)) GFLOP executed = \(format(cpuPerRequest(best))) core-seconds here (\(format(gflop / cpuPerRequest(best))) GFLOP/s per core), i.e. core-seconds × the price",
                  "of a core-second. Wall-clock figures on a shared machine are noisy; CPU seconds and FLOPs per request are the steadier ones."]
        return lines.joined(separator: "\n")
    }
}
