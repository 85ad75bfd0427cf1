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

    /// A server for the write time-out test: answers up to 2048² (32 candidates there make a
    /// 32 MiB answer), idle and body time-outs far past the test's waits.
    func writeTimeoutServer(_ writeTimeout: Duration) async throws -> LoopbackServer {
        var limits = ServerLimits()
        limits.maxSide = 2048
        return try await LoopbackServer.start(backend: try PacedBackend(), settings: CloudServerSettings(
            limits: limits, idleTimeout: .seconds(300), bodyReadTimeout: .seconds(300), writeTimeout: writeTimeout))
    }

    func testWriteTimeoutClosesAConnectionThatDoesNotReadItsAnswer() async throws {
        // A 32 MiB answer is more than the loopback's socket buffers take in (about 3 MiB here
        // with the client's 4 KiB receive buffer), so NIO holds the rest, the channel turns
        // unwritable, and after the write time-out the server abandons the answer and closes
        // its end. Watched through the kernel's entry for the server's end of this one
        // connection: the test process's descriptor count, used before, also counted a timer
        // descriptor libdispatch opens on the first sleep on a new clock (docs/RELIABILITY.md).
        let body = try request(candidates: 32, side: 2048).encodedJSON()
        let server = try await writeTimeoutServer(.milliseconds(500))
        var received = Data()
        do {
            let connection = try RawConnection(port: server.running.port, receiveTimeout: 20, receiveBuffer: 4096)
            XCTAssertTrue(connection.send(RawConnection.postHead(length: body.count) + body))
            // Not reading. First the server accepts (its end appears), then, once the answer is
            // made (seconds in a debug build on a loaded machine) and has stalled for 0.5 s,
            // closes it. The waits are for a loaded machine; nothing else closes it before 300 s.
            let accepted = ContinuousClock.now + .seconds(20)
            while !connection.peerHoldsConnection, ContinuousClock.now < accepted { try await Task.sleep(for: .milliseconds(10)) }
            let closed = ContinuousClock.now + .seconds(60)
            while connection.peerHoldsConnection, ContinuousClock.now < closed { try await Task.sleep(for: .milliseconds(50)) }
            XCTAssertFalse(connection.peerHoldsConnection, "the server still holds the connection of a client that does not read")
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

        // The control: with a write time-out far away, the same client is still held well after
        // the answer began to stall.
        let patient = try await writeTimeoutServer(.seconds(30))
        do {
            let connection = try RawConnection(port: patient.running.port, receiveTimeout: 20, receiveBuffer: 4096)
            XCTAssertTrue(connection.send(RawConnection.postHead(length: body.count) + body))
            let begun = ContinuousClock.now + .seconds(60)
            while !connection.hasBytesWaiting, ContinuousClock.now < begun { try await Task.sleep(for: .milliseconds(10)) }
            XCTAssertTrue(connection.hasBytesWaiting, "the answer never began")
            try await Task.sleep(for: .seconds(2))
            XCTAssertTrue(connection.peerHoldsConnection, "the connection closed without the write time-out")
        }  // The client goes away here, so the stalled answer ends and the server can stop.
        try await patient.shutdown()
    }
}
