import CloudServer
import DeviceClient
import Foundation
import LoopbackFleet
import Privacy
#if canImport(Glibc)
import Glibc
#endif
import WireProtocol

/// The load and fault campaign against real `obclip serve` processes on loopback: every
/// scenario starts its own server, is bounded in clients and time, and reports what it saw as
/// one `HarnessRow`. Shared by `obclip bench load` (full size) and the CI tests (small sizes).
struct LoadHarness {
    /// The obclip executable to run as the server.
    let executable: URL
    /// The server's model directory (the demo models: fast, real weights).
    let model: String
    /// More `obclip serve` flags for every server (e.g. `--precision bf16`).
    let serverArguments: [String]
    /// The bearer token every server requires; written to a mode-600 token file.
    let token = "tok-" + UUID().uuidString
    let workDirectory: URL
    /// Every server's log file (`replica-….log`), for the audit.
    var logDirectory: URL { workDirectory.appendingPathComponent("logs") }

    init(executable: URL, model: String, serverArguments: [String] = []) throws {
        self.executable = executable
        self.model = model
        self.serverArguments = serverArguments
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: tokenFile, contents: Data("\(token)\n".utf8), attributes: [.posixPermissions: 0o600])
    }

    var tokenFile: String { workDirectory.appendingPathComponent("tokens").path }

    /// An `obclip serve` child process on a free loopback port (LoopbackFleet's replica: own
    /// process group, bounded lifetime, log file kept for the audit), started and handed to
    /// `body`, killed afterwards whatever `body` did.
    func withServer<T>(_ extra: [String] = [], _ body: (Replica) async throws -> T) async throws -> T {
        let launch = ReplicaLaunch(executable: executable.path, model: model,
                                   arguments: ["--tokens", tokenFile, "--log-level", "debug"] + serverArguments + extra,
                                   lifetime: 3600, logDirectory: logDirectory)
        let server = Replica(port: 0, launch: launch)
        server.startTimeout = 600  // random:sd15 makes 1 B random weights first
        try await server.start()
        let result = await outcome { try await body(server) }
        await server.kill()
        return try result.get()
    }

    /// A `/metrics` sample of `server`, which must answer.
    func metric(_ series: String, of server: Replica) async throws -> Double {
        guard let value = await server.metric(series) else { throw HarnessError("\(server.url) gave no metric \(series)") }
        return value
    }

    /// Marker words that only ever appear inside candidate prompts, so the log audit can look
    /// for them byte for byte.
    static func marker(_ i: Int) -> String {
        let letters = Array("bcdfghjklmnpqrstvwxz")
        return "zebra" + String(letters[i % letters.count]) + String(letters[(i / letters.count) % letters.count]) + "quokka"
    }

    /// The candidate set a device sends for the demo's three-attribute portrait (gender × age ×
    /// ethnicity: N = 30, the privacy engine's canonical order), holding `marker(0)`.
    static let candidateSet: [String] = {
        let prompt = "\(DemoModels.prompt), holding a \(marker(0))"
        guard let set = try? Obfuscator().obfuscate(prompt), set.candidates.count > 1 else {
            preconditionFailure("the privacy engine hides nothing in \(prompt)")
        }
        return set.candidates
    }()

    /// Request `variant`: the first `candidates` of the demo portrait's candidate set (at most
    /// `candidateSet.count`), each holding the variant's marker word, `steps` total and
    /// `switchStep` on the server, at `side` pixels.
    static func request(_ variant: Int, steps: Int = 4, switchStep: Int = 2, side: Int = 64, candidates: Int = 4, seed: UInt64? = nil) -> GenerationRequest {
        precondition(candidates <= candidateSet.count, "the demo portrait has \(candidateSet.count) candidates, \(candidates) asked")
        let texts = candidateSet.prefix(candidates).map { $0.replacingOccurrences(of: marker(0), with: marker(variant)) }
        return GenerationRequest(candidates: texts, seed: seed ?? UInt64(variant), steps: steps, switchStep: switchStep,
                                 scheduler: "dpm++2m", guidanceScale: 7.5, width: side, height: side)
    }

    /// Every string the logs must never contain: candidate texts, their words, the token.
    func secrets(variants: Range<Int>) -> [String] {
        var all = [token, "Bearer"]
        for v in variants {
            let request = Self.request(v)
            all += request.candidates + [Self.marker(v)]
        }
        return all + ["portrait", "holding", "woman"]
    }

    // MARK: Scenarios

    /// `clients` at once against a queue bound of `queue`: one round of single attempts
    /// (outcomes by status), then one round with retries (every client must complete with the
    /// right latents), counting what the server says it served.
    func burst(clients: Int, queue: Int, distinct: Int) async throws -> HarnessRow {
        try await withServer(["--queue", String(queue)]) { server in
            let requests = (0..<clients).map { Self.request($0 % distinct) }
            let references = try await (0..<distinct).asyncMap { try await self.single(Self.request($0), on: server) }
            let servedBefore = try await metric("obclip_requests_total{outcome=\"ok\"}", of: server)

            let singles = try await requests.concurrentMap { request -> (Int, Bool) in
                let answer = try await LoopbackHTTP.post(server.url.appendingPathComponent("v1/generate"), json: try request.encodedJSON(), token: token)
                return (answer.status, answer.header("Retry-After") != nil)
            }
            var byStatus: [Int: Int] = [:]
            for (status, _) in singles { byStatus[status, default: 0] += 1 }
            let refusalsWithoutRetryAfter = singles.filter { [429, 503].contains($0.0) && !$0.1 }.count

            let client = CloudClient(server: server.url, token: token, retry: RetryPolicy(maxAttempts: 200, initialDelay: 0.1, maxDelay: 1), timeout: 120)
            let retried = try await requests.concurrentMap { request -> Result<CloudExchange, Error> in
                await outcome { try await client.generate(request) }
            }
            var completed = 0, correct = 0, identical = 0, attempts: [Int] = []
            var worst: Float = 0
            for (i, result) in retried.enumerated() {
                guard case .success(let exchange) = result else { continue }
                completed += 1
                attempts.append(exchange.attempts)
                let reference = references[i % distinct]
                let difference = zip(exchange.response.latents.scalars, reference.latents.scalars).map { abs($0 - $1) }.max() ?? .infinity
                worst = max(worst, difference)
                // Requests batched together run as one forward pass with more rows, whose GEMM
                // blocking can round differently from the unloaded single run: same result to 1e-4.
                if exchange.response.latents.shape == reference.latents.shape, difference <= 1e-4 { correct += 1 }
                if exchange.response.latents == reference.latents { identical += 1 }
            }
            let served = try await metric("obclip_requests_total{outcome=\"ok\"}", of: server) - servedBefore
            let okSingles = byStatus[200, default: 0]
            let duplicated = Int(served) - okSingles - completed
            let peak = server.process?.programStatus("VmHWM") ?? 0
            let held = completed == clients && correct == clients && duplicated == 0 && refusalsWithoutRetryAfter == 0
                && byStatus.keys.allSatisfy { [200, 429, 503].contains($0) }
            return HarnessRow(
                scenario: "burst", tried: "\(clients) concurrent clients, queue bound \(queue), \(distinct) distinct requests",
                outcome: "single attempt: \(byStatus.sorted { $0.key < $1.key }.map { "\($0.value)×\($0.key)" }.joined(separator: ", "))"
                    + " (every 429/503 with Retry-After: \(refusalsWithoutRetryAfter == 0)); with retries: \(completed)/\(clients) completed,"
                    + " \(correct) correct to 1e-4 (\(identical) bit-identical to an unloaded run, worst |Δ| \(worst)), attempts max \(attempts.max() ?? 0),"
                    + " lost \(clients - completed), duplicated \(duplicated), server peak RSS \(peak / 1024) MiB",
                held: held)
        }
    }

    /// `total` clients that misbehave (disconnect mid-wait or mid-body, drip their header or
    /// body, never read a large answer), `concurrency` at a time; the server's threads, memory,
    /// file descriptors and queue must come back, and it must still serve.
    func disconnects(total: Int, concurrency: Int, timeout: Double) async throws -> HarnessRow {
        let seconds = String(timeout)
        return try await withServer(["--queue", "8", "--idle-timeout", seconds, "--body-timeout", seconds, "--write-timeout", seconds,
                                     "--max-side", "256"]) { server in
        _ = try await single(Self.request(0), on: server)  // warm: first-request allocations are not growth
        let before = Self.resources(of: server)
        let body = try Self.request(1, steps: 8, switchStep: 6).encodedJSON()
        let large = try Self.request(2, steps: 2, switchStep: 1, side: 256).encodedJSON()
        let kinds = ["mid-wait", "mid-body", "slow header", "slow body", "slow reader"]
        let port = server.port
        var closedByServer: [String: Int] = [:]
        var count: [String: Int] = [:]
        for start in stride(from: 0, to: total, by: concurrency) {
            let batch = Array(start..<min(total, start + concurrency))
            let results = try await batch.concurrentMap { i -> (String, Bool) in
                let kind = kinds[i % kinds.count]
                return (kind, await Self.misbehave(kind, port: port, body: kind == "slow reader" ? large : body, timeout: timeout))
            }
            for (kind, closed) in results {
                count[kind, default: 0] += 1
                if closed { closedByServer[kind, default: 0] += 1 }
            }
        }
        try await Task.sleep(for: .seconds(timeout + 1))
        let depth = try await metric("obclip_queue_depth", of: server)
        let after = Self.resources(of: server)
        let stillServes = (try? await single(Self.request(3), on: server)) != nil
        let timeoutsHeld = ["slow header", "slow body", "slow reader"].allSatisfy { closedByServer[$0, default: 0] == count[$0, default: 0] }
        let held = depth == 0 && stillServes && timeoutsHeld && after.threads <= before.threads + 2 && after.files <= before.files + 2
        return HarnessRow(
            scenario: "disconnects", tried: "\(total) clients (\(kinds.joined(separator: ", ")); \(concurrency) at a time), time-outs \(seconds) s",
            outcome: "closed by the server in time: \(kinds.map { "\($0) \(closedByServer[$0, default: 0])/\(count[$0, default: 0])" }.joined(separator: ", "));"
                + " threads \(before.threads)→\(after.threads), RSS \(before.rss / 1024)→\(after.rss / 1024) MiB, open fds \(before.files)→\(after.files),"
                + " queue depth after \(Int(depth)), still serves: \(stillServes)",
            held: held)
        }
    }

    /// Threads, resident memory (KiB) and open descriptors of the server process.
    static func resources(of server: Replica) -> (threads: Int, rss: Int, files: Int) {
        (server.process?.programStatus("Threads") ?? 0, server.process?.programStatus("VmRSS") ?? 0, server.process?.programOpenFiles() ?? -1)
    }

    /// One misbehaving client; true when the server ended the exchange itself (closed the
    /// connection or answered) within the time-out and a margin.
    static func misbehave(_ kind: String, port: Int, body: Data, timeout: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                guard let connection = try? RawConnection(port: port, receiveTimeout: timeout + 3, receiveBuffer: 4096) else {
                    return continuation.resume(returning: false)
                }
                switch kind {
                case "mid-wait":
                    connection.send(RawConnection.postHead(length: body.count) + body)
                    Thread.sleep(forTimeInterval: 0.01)
                    continuation.resume(returning: true)  // the client leaves; the queue check is the measurement
                case "mid-body":
                    connection.send(RawConnection.postHead(length: body.count) + body.prefix(body.count / 3))
                    continuation.resume(returning: true)
                case "slow header":
                    let closed = connection.drip(RawConnection.postHead(length: body.count), pause: 0.1, for: timeout + 3)
                    continuation.resume(returning: closed || connection.readsToEnd())
                case "slow body":
                    connection.send(RawConnection.postHead(length: body.count))
                    let closed = connection.drip(body, pause: 0.05, for: timeout + 3)
                    continuation.resume(returning: closed || connection.readsToEnd())
                default:  // slow reader: asks for a large answer and does not read it
                    connection.send(RawConnection.postHead(length: body.count) + body)
                    Thread.sleep(forTimeInterval: timeout + 2)
                    continuation.resume(returning: connection.readsToEnd())
                }
            }
        }
    }

    /// SIGKILL while a request is being generated, then a restart on the same port: the
    /// retrying client must complete with latents byte-identical to an undisturbed run.
    func killAndRestart() async throws -> HarnessRow {
        try await withServer { server in
        let port = server.port
        let request = Self.request(5, steps: 30, switchStep: 25, candidates: 6)
        let reference = try await single(request, on: server)
        let client = CloudClient(server: server.url, token: token, retry: RetryPolicy(maxAttempts: 60, initialDelay: 0.2, maxDelay: 0.5), timeout: 120)
        let attempt = Task { try await client.generate(request) }
        let deadline = Date().addingTimeInterval(30)
        while await server.metric("obclip_queue_depth") ?? 0 < 1, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let admitted = await server.metric("obclip_queue_depth") ?? 0
        await server.kill()
        let killedBy = server.process?.terminatingSignal
        try await Task.sleep(for: .milliseconds(300))
        try await server.start()
        let exchange = try await attempt.value
        let identical = exchange.response.latents == reference.latents && exchange.response.continuation == reference.continuation
        return HarnessRow(
            scenario: "SIGKILL + restart", tried: "server killed with a request admitted (queue depth \(Int(admitted))), restarted on port \(port)",
            outcome: "killed (signal \(killedBy.map(String.init) ?? "?")); client completed after \(exchange.attempts) attempts;"
                + " latents and state byte-identical to an undisturbed run: \(identical)",
            held: admitted >= 1 && identical && exchange.attempts > 1 && server.port == port)
        }
    }

    /// SIGTERM with the queue full: admitted requests finish (or, past the drain deadline, get
    /// 503), new ones and `/readyz` get 503 with Retry-After, and the process exits in time.
    func drain(inFlight: Int, drainSeconds: Double) async throws -> HarnessRow {
        try await withServer(["--queue", String(inFlight), "--drain-seconds", String(drainSeconds)]) { server in
            let client = CloudClient(server: server.url, token: token, retry: RetryPolicy(maxAttempts: 1), timeout: 120)
            let admitted = (0..<inFlight).map { i in Task { await outcome { try await client.generate(Self.request(10 + i, steps: 12, switchStep: 10)) } } }
            let deadline = Date().addingTimeInterval(30)
            while await server.metric("obclip_queue_depth") ?? 0 < Double(inFlight), Date() < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let sent = Date()
            server.terminate()
            // The drain begins when the server handles the signal, which a loaded machine delays:
            // until then a full queue answers 429, not the drain's 503.
            while await server.metric("obclip_draining") != 1, Date() < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let ready = try await HTTPExchange.send(.GET, server.url.appendingPathComponent("readyz"), timeout: 60)
            let fresh = try await LoopbackHTTP.post(server.url.appendingPathComponent("v1/generate"),
                                                         json: try Self.request(99).encodedJSON(), token: token)
            var finished = 0, refused = 0, other = 0
            for task in admitted {
                switch await task.value {
                case .success: finished += 1
                case .failure(CloudClientError.refused(503, _)): refused += 1
                case .failure: other += 1
                }
            }
            await server.process?.waitForExit(seconds: drainSeconds + 30)
            let exitSeconds = Date().timeIntervalSince(sent)
            let status = server.process?.exitCode
            let retryAfter = ready.header("Retry-After") != nil && fresh.header("Retry-After") != nil
            let held = ready.status == 503 && fresh.status == 503 && retryAfter && other == 0 && finished + refused == inFlight
                && status == 0 && exitSeconds <= drainSeconds + 5
            return HarnessRow(
                scenario: "SIGTERM drain", tried: "SIGTERM with \(inFlight) requests admitted, --drain-seconds \(drainSeconds)",
                outcome: "during drain /readyz \(ready.status), new request \(fresh.status) (Retry-After: \(retryAfter));"
                    + " admitted: \(finished) finished 200, \(refused) answered 503 at the deadline, \(other) other;"
                    + " exit status \(status.map(String.init) ?? "none") after \(String(format: "%.2f", exitSeconds)) s",
                held: held)
        }
    }

    /// A request whose activations cannot fit this machine: refused with 422 naming the limit,
    /// before anything is allocated.
    func overMemory() async throws -> HarnessRow {
        try await withServer(["--max-side", "8192"]) { server in
            let before = server.process?.programStatus("VmRSS") ?? 0
            let request = Self.request(20, side: 8192, candidates: Self.candidateSet.count)
            let answer = try await LoopbackHTTP.post(server.url.appendingPathComponent("v1/generate"), json: try request.encodedJSON(), token: token)
            let detail = try? JSONDecoder().decode(ErrorEnvelope.self, from: answer.body).error
            let after = server.process?.programStatus("VmRSS") ?? 0
            let stillServes = (try? await single(Self.request(21), on: server)) != nil
            return HarnessRow(
                scenario: "over memory", tried: "N = \(Self.candidateSet.count) at 8192×8192 (server --max-side 8192) on a \(MachineFacts.memoryGiB) GiB machine",
                outcome: "HTTP \(answer.status) field \(detail?.field ?? "-"): \(detail?.message ?? "-"); RSS \(before / 1024)→\(after / 1024) MiB; still serves: \(stillServes)",
                held: answer.status == 422 && detail?.field == "memory" && stillServes && after < before + 100 * 1024)
        }
    }

    /// The server's activation estimate of a request against the resident memory its forward
    /// pass really added: a fresh server per size, its peak reset after start (and one small
    /// warm-up request, so thread pools and first-use buffers are not counted), then one request
    /// of `candidates` at `side`² pixels (T = 2, k = 1: one UNet call on 2N rows). The estimate
    /// is what the server logs with the answer; "held" means it was an upper bound.
    func memoryEstimate(side: Int, candidates: Int) async throws -> HarnessRow {
        try await withServer(["--max-side", String(max(side, 64))]) { server in
            guard let process = server.process else { throw HarnessError("server not running") }
            _ = try await single(Self.request(31, steps: 2, switchStep: 1, candidates: 1), on: server, timeout: 3600)
            let base = process.programStatus("VmRSS") ?? 0
            try process.resetPeakResident()
            let logged = process.log.count
            let started = Date()
            _ = try await single(Self.request(30, steps: 2, switchStep: 1, side: side, candidates: candidates), on: server, timeout: 3600)
            let seconds = Date().timeIntervalSince(started)
            let peak = process.programStatus("VmHWM") ?? 0
            let served = process.log.dropFirst(logged).split(separator: "\n").last { $0.contains("generation served") } ?? ""
            guard let range = served.range(of: "estimatedActivationBytes="),
                  let estimate = Int(served[range.upperBound...].prefix(while: \.isNumber)) else {
                throw HarnessError("no estimatedActivationBytes in the server's log line: \(served)")
            }
            let measured = (peak - base) * 1024
            let mib = { (bytes: Int) in String(format: "%.1f", Double(bytes) / 1048576) }
            return HarnessRow(
                scenario: "memory estimate", tried: "\(model.split(separator: "/").last ?? ""), N = \(candidates) at \(side)×\(side) (latents \(side / 8)², \(2 * candidates) UNet rows)",
                outcome: "estimated \(mib(estimate)) MiB, peak RSS above the warm server \(mib(measured)) MiB (estimate / measured \(String(format: "%.2f", Double(estimate) / Double(max(measured, 1))))); RSS before \(base / 1024) MiB; \(String(format: "%.0f", seconds)) s",
                held: estimate >= measured)
        }
    }

    /// Every byte every server logged, searched for the candidates, their words and the token.
    func logAudit(variants: Range<Int>) throws -> HarnessRow {
        let files = try FileManager.default.contentsOfDirectory(at: logDirectory, includingPropertiesForKeys: nil)
        let text = try files.sorted { $0.path < $1.path }.reduce(into: Data()) { $0 += try Data(contentsOf: $1) }
        let lines = text.split(separator: UInt8(ascii: "\n")).count
        let found = secrets(variants: variants).filter { text.range(of: Data($0.utf8)) != nil || text.range(of: Data($0.lowercased().utf8)) != nil }
        return HarnessRow(
            scenario: "log audit", tried: "\(lines) log lines (\(text.count) bytes, level debug) of every server above, searched for \(secrets(variants: variants).count) candidate texts, prompt words and the token",
            outcome: found.isEmpty ? "none found" : "FOUND: \(found.joined(separator: ", "))",
            held: found.isEmpty)
    }

    /// One successful exchange with no retries, for references.
    func single(_ request: GenerationRequest, on server: Replica, timeout: Double = 120) async throws -> GenerationResponse {
        try await CloudClient(server: server.url, token: token, retry: RetryPolicy(maxAttempts: 1), timeout: timeout).generate(request).response
    }
}

/// One line of the reliability table.
struct HarnessRow: Sendable {
    let scenario: String
    let tried: String
    let outcome: String
    let held: Bool

    var markdown: String { "| \(scenario) | \(tried) | \(outcome) | \(held ? "held" : "**FAILED**") |" }
}

/// A harness step that could not run as planned (not a finding about the server).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Facts about this machine, for the report.
enum MachineFacts {
    static var memoryGiB: Int { Int(ProcessInfo.processInfo.physicalMemory >> 30) }
}

/// The value or the error of `body`, as a value.
func outcome<T>(_ body: () async throws -> T) async -> Result<T, Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

extension Sequence where Element: Sendable {
    /// `transform` over every element at once (one task each), results in order.
    func concurrentMap<T: Sendable>(_ transform: @escaping @Sendable (Element) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for (i, element) in enumerated() { group.addTask { (i, try await transform(element)) } }
            var results: [(Int, T)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
