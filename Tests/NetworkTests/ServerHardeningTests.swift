import Foundation
import LoopbackFleet
import XCTest
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// Security and resource rules of the service, in process over loopback HTTP.
final class ServerHardeningTests: XCTestCase {
    func request(seed: UInt64 = 1, candidates: Int = 3, side: Int = 64) -> GenerationRequest {
        GenerationRequest(candidates: (0..<candidates).map { "a photo of person \($0)" }, seed: seed, steps: 4, switchStep: 2,
                          scheduler: "ddim", width: side, height: side)
    }

    func testTokenFileReadableByOthersIsWarnedAbout() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        FileManager.default.createFile(atPath: file, contents: Data("secret-token\n".utf8), attributes: [.posixPermissions: 0o644])
        let warning = try XCTUnwrap(AccessPolicy.permissionWarning(tokenFile: file))
        XCTAssertTrue(warning.contains("chmod 600"), warning)
        XCTAssertTrue(warning.contains("644"), warning)
        XCTAssertFalse(warning.contains("secret-token"), "the warning must not quote the token")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        XCTAssertNil(AccessPolicy.permissionWarning(tokenFile: file))
        XCTAssertEqual(try AccessPolicy.load(tokenFile: file).tokens, ["secret-token"])
    }

    func testRequestIDIsReturnedAndLoggedWithoutTheToken() async throws {
        let server = try await LoopbackServer.start(backend: try PacedBackend(), tokens: ["tok-ABCDEF"])
        let answer = try await server.post(try request().encodedJSON(), token: "tok-ABCDEF")
        let refused = try await server.post(try request().encodedJSON(), token: "tok-wrong")
        try await server.shutdown()
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(refused.status, 401)
        let id = try XCTUnwrap(answer.headers.value(forHTTPHeaderField: CloudService.requestIDHeader))
        let refusedID = try XCTUnwrap(refused.headers.value(forHTTPHeaderField: CloudService.requestIDHeader))
        XCTAssertNotEqual(id, refusedID)
        // The connection is closed after a generation answer; the header tells clients and proxies not to reuse it.
        XCTAssertEqual(answer.headers.value(forHTTPHeaderField: "Connection"), "close")
        let logs = server.logs.text
        XCTAssertTrue(logs.split(separator: "\n").contains { $0.contains("generation served") && $0.contains("hb.request.id=\(id)") }, logs)
        XCTAssertTrue(logs.split(separator: "\n").contains { $0.contains("request refused") && $0.contains("hb.request.id=\(refusedID)") }, logs)
        for secret in ["tok-ABCDEF", "tok-wrong", "person"] { XCTAssertFalse(logs.contains(secret), "logs contain '\(secret)'") }
    }

    func testMemoryLimitRefusesLargeRequestsAndBoundsBatches() async throws {
        // PacedBackend estimates 1 MiB per candidate.
        let backend = try PacedBackend(stepDelay: .milliseconds(100))
        let server = try await LoopbackServer.start(backend: backend, settings: CloudServerSettings(queueCapacity: 4, maxRequestMemoryBytes: 5 << 20))
        let refused = try await server.post(try request(candidates: 6).encodedJSON())
        XCTAssertEqual(refused.status, 422)
        XCTAssertEqual(refused.body.errorDetail?.field, "memory")
        XCTAssertTrue(refused.body.errorDetail?.message.contains("limit of 5 MiB") ?? false, String(decoding: refused.body, as: UTF8.self))
        // Two compatible 3-candidate requests wait together but would need 6 MiB as one batch.
        let client = CloudClient(server: server.url)
        async let busy = client.generate(request(seed: 9))
        try await Task.sleep(for: .milliseconds(50))
        async let a = client.generate(request(seed: 2))
        async let b = client.generate(request(seed: 2))
        let results = try await [busy, a, b]
        try await server.shutdown()
        XCTAssertEqual(results.map(\.response.accounting.batchedRequests), [1, 1, 1])
        XCTAssertEqual(backend.batches.count, 3)
    }

    func testDrainRefusesNewWorkAndAnswersTheRestAtTheDeadline() async throws {
        let backend = try PacedBackend(stepDelay: .milliseconds(200))
        let server = try await LoopbackServer.start(backend: backend, settings: CloudServerSettings(queueCapacity: 4, drainTimeout: .milliseconds(300)))
        let client = CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1))
        // The first finishes in time (2 × 200 ms from now); the one queued behind it does not.
        let first = Task { try await client.generate(request(seed: 1, candidates: 1)) }
        try await Task.sleep(for: .milliseconds(150))
        let second = Task { try await client.generate(request(seed: 2, candidates: 1)) }
        try await Task.sleep(for: .milliseconds(50))
        let stopping = Task { try await server.shutdown() }
        try await Task.sleep(for: .milliseconds(50))
        let ready = try await server.get("readyz")
        let fresh = try await server.post(try request(seed: 3).encodedJSON())
        XCTAssertEqual(ready.status, 503)
        XCTAssertEqual(fresh.status, 503)
        XCTAssertEqual(fresh.headers.value(forHTTPHeaderField: "Retry-After"), "2")
        XCTAssertEqual(fresh.body.errorDetail?.field, "server")
        let metrics = try await server.get("metrics")
        XCTAssertTrue(metrics.text.contains("obclip_draining 1"), metrics.text)
        let started = ContinuousClock.now
        try await stopping.value
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "shutdown waited past its drain deadline")
        let finished = try await first.value
        XCTAssertEqual(finished.response.candidateCount, 1)
        do {
            _ = try await second.value
            XCTFail("a request still queued at the drain deadline was answered 200")
        } catch CloudClientError.refused(let status, let error) {
            XCTAssertEqual(status, 503)
            XCTAssertEqual(error?.field, "server")
        }
    }

    func testAOneWordCandidateAsLargeAsTheBodyLimitIsRefusedCheaply() async throws {
        // Tokenising this word in full would take the server minutes of CPU (BPE is quadratic
        // in a word's length) before any queue bound applies; the bounded count refuses it at once.
        let server = try await LoopbackServer.start(backend: try PacedBackend())
        var generator = SystemRandomNumberGenerator()
        var hostile = request()
        hostile.candidates[0] = String((0..<(200 << 10)).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement(using: &generator)! })
        let started = ContinuousClock.now
        let answer = try await server.post(try hostile.encodedJSON())
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        XCTAssertEqual(answer.status, 422)
        XCTAssertEqual(answer.body.errorDetail?.field, "candidates[0]")
        XCTAssertTrue(answer.body.errorDetail?.message.contains("or more tokens exceed the limit of 77") ?? false,
                      String(decoding: answer.body, as: UTF8.self))
        try await server.shutdown()
    }

    /// Descriptors open in this process (the in-process server's sockets included).
    static var openFiles: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1 }

    func testWriteTimeoutClosesAConnectionThatDoesNotReadItsAnswer() async throws {
        // Found at the merge of 2026-12-04: on an idle machine the server still holds this
        // connection 10 s after a 0.5 s write time-out (docs/RELIABILITY.md, "Write time-out").
        // Skipped, not deleted, until the handler is fixed; OBCLIP_WRITE_TIMEOUT_TEST=1 runs it.
        try XCTSkipUnless(ProcessInfo.processInfo.environment["OBCLIP_WRITE_TIMEOUT_TEST"] == "1",
                          "known open: the write time-out does not close a client that never reads (issue #14)")
        // A 32 MiB answer (32 candidates at 2048², PacedBackend's latents) is more than the
        // kernel buffers on loopback take in (an 8 MiB one was swallowed whole: the client's
        // 4 KiB receive buffer does not bound what the loopback queues for it).
        var limits = ServerLimits()
        limits.maxSide = 2048
        let server = try await LoopbackServer.start(backend: try PacedBackend(), settings: CloudServerSettings(
            limits: limits, idleTimeout: .seconds(60), bodyReadTimeout: .seconds(60), writeTimeout: .milliseconds(500)))
        let body = try request(candidates: 32, side: 2048).encodedJSON()
        let filesBefore = Self.openFiles
        var received = Data()
        do {
            let connection = try RawConnection(port: server.running.port, receiveTimeout: 20, receiveBuffer: 4096)
            XCTAssertTrue(connection.send(RawConnection.postHead(length: body.count) + body))
            // Not reading: the socket buffers fill, NIO's channel turns unwritable, and after the
            // write time-out the server abandons the answer and closes its end.
            // First the server's end of the connection appears (accepted), then it goes away; a
            // check before the accept would see `filesBefore + 1` at once and start reading.
            let deadline = ContinuousClock.now + .seconds(10)
            while Self.openFiles < filesBefore + 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            while Self.openFiles > filesBefore + 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            XCTAssertEqual(Self.openFiles, filesBefore + 1, "the server still holds the connection of a client that does not read")
            // What was already in the buffers arrives, then the end of the stream, not the rest.
            while let chunk = connection.receive(), !chunk.isEmpty { received += chunk }
        }
        let head = try XCTUnwrap(received.range(of: Data("\r\n\r\n".utf8)), "no response head")
        let headText = String(decoding: received[..<head.lowerBound], as: UTF8.self).lowercased()
        XCTAssertTrue(headText.hasPrefix("http/1.1 200"), headText)
        let length = try XCTUnwrap(headText.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) })
        XCTAssertGreaterThan(length, 32 << 20)
        XCTAssertLessThan(received.count - head.upperBound, length, "the whole answer arrived: the write time-out never engaged")
        // The slot is free: nothing admitted, and the next client is served.
        let metrics = try await server.get("metrics").text
        XCTAssertTrue(metrics.contains("obclip_queue_depth 0"), metrics)
        let next = try await server.post(try request(seed: 2).encodedJSON())
        XCTAssertEqual(next.status, 200)
        try await server.shutdown()
    }
}
