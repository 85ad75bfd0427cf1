import Foundation
import XCTest
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// The cloud service over real loopback HTTP.
final class CloudServiceTests: XCTestCase {
    let candidates = ["a photo of an old man reading", "a photo of an old woman reading", "a photo of a young man reading"]

    func request(seed: UInt64 = 7, candidates: [String]? = nil, switchStep: Int = 2) -> GenerationRequest {
        GenerationRequest(candidates: candidates ?? self.candidates, seed: seed, steps: max(4, switchStep), switchStep: switchStep,
                          scheduler: "ddim", width: 64, height: 64)
    }

    func testServesValidatedResponseAndEndpoints() async throws {
        let server = try await LoopbackServer.start(backend: try PacedBackend())
        let exchange = try await CloudClient(server: server.url).generate(request())
        XCTAssertEqual(exchange.response.candidateCount, 3)
        XCTAssertEqual(exchange.response.latents.shape, [3, 4, 8, 8])
        XCTAssertEqual(exchange.response.continuation.completedSteps, 2)
        XCTAssertEqual(exchange.response.accounting.batchedRequests, 1)
        XCTAssertNotNil(exchange.response.accounting.phaseSeconds["queue"])
        XCTAssertEqual(exchange.bytesSent, try request().encodedJSON().count)
        XCTAssertGreaterThan(exchange.bytesReceived, 3 * 4 * 64 * 4)

        let health = try await server.get("healthz")
        XCTAssertEqual(health.status, 200)
        let ready = try await server.get("readyz")
        XCTAssertEqual(ready.status, 200)
        let metrics = try await server.get("metrics")
        XCTAssertTrue(metrics.text.contains("obclip_requests_total{outcome=\"ok\"} 1"), metrics.text)
        XCTAssertTrue(metrics.text.contains("obclip_step_seconds_count 2"), metrics.text)
        XCTAssertTrue(metrics.text.contains("obclip_executed_flops_total 6000"), metrics.text)
        XCTAssertTrue(metrics.text.contains("obclip_queue_depth 0"), metrics.text)
        try await server.shutdown()
    }

    func testEachBadInputGetsItsStatusAndTheServerKeepsServing() async throws {
        let limits = ServerLimits(maxCandidates: 4, maxSteps: 10, maxSwitchStep: 5, maxSide: 128, maxPromptTokens: 20, maxBodyBytes: 4096)
        let server = try await LoopbackServer.start(backend: try PacedBackend(), settings: CloudServerSettings(limits: limits))
        func check(_ body: Data, _ status: Int, _ field: String?, contentType: String = "application/json",
                   file: StaticString = #filePath, line: UInt = #line) async throws {
            let answer = try await server.post(body, contentType: contentType)
            XCTAssertEqual(answer.status, status, String(decoding: answer.body, as: UTF8.self), file: file, line: line)
            XCTAssertEqual(answer.body.errorDetail?.field, field, file: file, line: line)
        }
        func json(_ edit: (inout GenerationRequest) -> Void) throws -> Data {
            var r = request()
            edit(&r)
            return try r.encodedJSON()
        }
        try await check(Data("{not json".utf8), 400, "body")
        try await check(Data("{}".utf8), 400, "version")
        try await check(try json { $0.version = 9 }, 400, "version")
        try await check(try json { $0.candidates = (0..<5).map { "p\($0)" } }, 422, "candidates")
        try await check(try json { $0.candidates = [] }, 400, "candidates")
        try await check(try json { $0.steps = 11; $0.switchStep = 2 }, 422, "steps")
        try await check(try json { $0.steps = 10; $0.switchStep = 6 }, 422, "switchStep")
        try await check(try json { $0.switchStep = 5 }, 400, "switchStep")
        try await check(try json { $0.width = 192 }, 422, "width")
        try await check(try json { $0.height = 100 }, 400, "height")
        try await check(try json { $0.scheduler = "heun" }, 400, "scheduler")
        // 19 words plus start/end exceed 20 CLIP tokens (counted by the real tokenizer).
        let long = Array(repeating: "cat", count: 19).joined(separator: " ")
        try await check(try json { $0.candidates[1] = long }, 422, "candidates[1]")
        try await check(try json { $0.negativePrompt = long }, 422, "negativePrompt")
        try await check(Data(count: 5000), 413, "body")
        try await check(try json { _ in }, 415, "content-type", contentType: "text/plain")

        let exchange = try await CloudClient(server: server.url).generate(request())
        XCTAssertEqual(exchange.response.candidateCount, 3, "server still serves after every refusal")
        let metrics = try await server.get("metrics").text
        XCTAssertTrue(metrics.contains("obclip_requests_total{outcome=\"limit_exceeded\"} 6"), metrics)
        XCTAssertTrue(metrics.contains("obclip_requests_total{outcome=\"payload_too_large\"} 1"), metrics)
        try await server.shutdown()
    }

    func testBearerTokensAreEnforced() async throws {
        let server = try await LoopbackServer.start(backend: try PacedBackend(), tokens: ["s3cret", "other"])
        let body = try request().encodedJSON()
        var answer = try await server.post(body)
        XCTAssertEqual(answer.status, 401)
        XCTAssertEqual(answer.body.errorDetail?.kind, "unauthorized")
        XCTAssertEqual(answer.headers.value(forHTTPHeaderField: "WWW-Authenticate"), "Bearer realm=\"obclip\"")
        answer = try await server.post(body, token: "s3cre")
        XCTAssertEqual(answer.status, 401)
        answer = try await server.post(body, token: "other")
        XCTAssertEqual(answer.status, 200)
        do {
            _ = try await CloudClient(server: server.url, token: "wrong").generate(request())
            XCTFail("wrong token accepted")
        } catch let CloudClientError.refused(status, error) {
            XCTAssertEqual(status, 401)
            XCTAssertEqual(error?.field, "authorization")
        }
        let exchange = try await CloudClient(server: server.url, token: "s3cret").generate(request())
        XCTAssertEqual(exchange.response.candidateCount, 3)
        let health = try await server.get("healthz")
        XCTAssertEqual(health.status, 200, "probes need no token")
        try await server.shutdown()
    }

    func testQueueBoundRefusesWithRetryAfterAndClientRetries() async throws {
        let backend = try PacedBackend(stepDelay: .milliseconds(150))
        let server = try await LoopbackServer.start(backend: backend, settings: CloudServerSettings(queueCapacity: 1, retryAfterSeconds: 1))
        let body = try request(switchStep: 2).encodedJSON()
        async let first = server.post(body)
        try await Task.sleep(for: .milliseconds(100))
        let refused = try await server.post(try request(seed: 8).encodedJSON())
        XCTAssertEqual(refused.status, 429)
        XCTAssertEqual(refused.headers.value(forHTTPHeaderField: "Retry-After"), "1")
        XCTAssertEqual(refused.body.errorDetail?.field, "queue")
        let ready = try await server.get("readyz")
        XCTAssertEqual(ready.status, 503, "not ready while full")
        // A retrying client backs off and gets through once the slot frees.
        let retrying = CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 6, initialDelay: 0.1, maxDelay: 1))
        let lines = LineLog()
        let exchange = try await retrying.generate(request(seed: 9)) { lines.append($0) }
        XCTAssertEqual(exchange.response.candidateCount, 3)
        XCTAssertGreaterThan(exchange.attempts, 1, lines.text)
        XCTAssertTrue(lines.text.contains("retrying the whole set"), lines.text)
        let firstStatus = try await first.status
        XCTAssertEqual(firstStatus, 200)
        try await server.shutdown()
    }

    func testDisconnectedClientIsCancelledAndFreesItsSlot() async throws {
        let backend = try PacedBackend(stepDelay: .milliseconds(200))
        let server = try await LoopbackServer.start(backend: backend, settings: CloudServerSettings(queueCapacity: 1))
        let abandoned = Task { try await CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1)).generate(request(switchStep: 5)) }
        try await Task.sleep(for: .milliseconds(300))
        let depth = await server.running.service.queue.depth
        XCTAssertEqual(depth, 1)
        abandoned.cancel()
        // The slot frees well before the abandoned run (5 × 200 ms) would have finished.
        let deadline = ContinuousClock.now + .seconds(3)
        while await server.running.service.queue.depth > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let after = await server.running.service.queue.depth
        XCTAssertEqual(after, 0)
        XCTAssertEqual(backend.cancelledBatches, 1, "the backend run was cancelled")
        let exchange = try await CloudClient(server: server.url).generate(request(switchStep: 1))
        XCTAssertEqual(exchange.response.candidateCount, 3)
        let metrics = try await server.get("metrics").text
        XCTAssertTrue(metrics.contains("obclip_requests_total{outcome=\"cancelled\"} 1"), metrics)
        try await server.shutdown()
    }

    func testCompatibleConcurrentRequestsShareOneForwardPass() async throws {
        let backend = try PacedBackend(stepDelay: .milliseconds(100))
        let server = try await LoopbackServer.start(backend: backend, settings: CloudServerSettings(queueCapacity: 4))
        let client = CloudClient(server: server.url)
        // The first request occupies the worker; the next two (same settings, different
        // candidates) wait together and are batched; a third with another seed runs alone.
        async let first = client.generate(request(seed: 1))
        try await Task.sleep(for: .milliseconds(50))
        async let a = client.generate(request(seed: 2, candidates: ["a cat", "a dog"]))
        async let b = client.generate(request(seed: 2, candidates: ["a red car", "a blue car", "a green car"]))
        async let c = client.generate(request(seed: 3, candidates: ["a tree"]))
        let results = try await [first, a, b, c]
        XCTAssertEqual(results.map(\.response.candidateCount), [3, 2, 3, 1])
        XCTAssertEqual(results[1].response.accounting.batchedRequests, 2)
        XCTAssertEqual(results[2].response.accounting.batchedRequests, 2)
        XCTAssertEqual(results[3].response.accounting.batchedRequests, 1)
        XCTAssertEqual(backend.batches.map { $0.map(\.candidates.count) }.count, 3)
        XCTAssertTrue(backend.batches.contains { Set($0.map(\.candidates.count)) == [2, 3] })
        try await server.shutdown()
    }

    func testLogsNeverContainPromptText() async throws {
        let server = try await LoopbackServer.start(backend: try PacedBackend(), tokens: ["t"])
        let secrets = ["a portrait of a ZebraQuokka", "a portrait of a MarmotLynx"]
        _ = try await CloudClient(server: server.url, token: "t").generate(request(candidates: secrets))
        var bad = request(candidates: secrets)
        bad.scheduler = "nope"
        _ = try await server.post(try bad.encodedJSON(), token: "t")
        bad = request(candidates: secrets + [Array(repeating: "ZebraQuokka", count: 80).joined(separator: " ")])
        _ = try await server.post(try bad.encodedJSON(), token: "t")
        _ = try await server.post(try request(candidates: secrets).encodedJSON())  // unauthorized
        try await server.shutdown()
        let logs = server.logs.text
        XCTAssertTrue(logs.contains("generation served"), logs)
        XCTAssertTrue(logs.contains("request refused"), logs)
        for word in ["ZebraQuokka", "MarmotLynx", "portrait", "zebraquokka"] {
            XCTAssertFalse(logs.contains(word), "log output contains prompt text '\(word)':\n\(logs)")
        }
    }

    func testGracefulShutdownFinishesAdmittedWork() async throws {
        let server = try await LoopbackServer.start(backend: try PacedBackend(stepDelay: .milliseconds(150)))
        let inFlight = Task { try await CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1)).generate(request(switchStep: 3)) }
        try await Task.sleep(for: .milliseconds(200))
        try await server.shutdown()
        let exchange = try await inFlight.value
        XCTAssertEqual(exchange.response.candidateCount, 3, "the admitted request was answered")
        do {
            _ = try await CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1)).generate(request())
            XCTFail("a stopped server answered")
        } catch CloudClientError.transport {}
    }
}

/// Progress lines from a client.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
}
