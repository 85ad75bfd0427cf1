import Diffusion
import Foundation
import SafeTensors
import XCTest
import WireProtocol
@testable import CloudServer
@testable import DeviceClient

/// The device against a server that lies, breaks or stalls: every answer below comes over real
/// loopback HTTP from `HostileHTTPServer`, and each must end in a clear error on the device —
/// never a crash, never a latent used.
final class HostileServerTests: XCTestCase {
    static let prompt = "a photo of an old woman reading"
    static let settings = GenerationSettings(steps: 4, switchStep: 2, scheduler: "dpm++2m", guidanceScale: 7.5, width: 64, height: 64)

    /// A correct answer for the prompt's request, made by the real backend on the tiny models.
    static func honest() async throws -> (request: GenerationRequest, response: GenerationResponse) {
        let tiny = try EndToEndTests.models.get()
        let set = try HybridGenerator(device: tiny.device, cloud: nil).obfuscator.obfuscate(prompt)
        let request = GenerationMode.obclip.cloudRequest(for: set, seed: 5, settings: settings)!
        let response = try await ModelBackend(models: try EndToEndTests.serverModels()).generate([request], observer: .none)[0]
        return (request, response)
    }

    /// Runs the whole device side (obfuscate, send, validate, continue) against a server that
    /// answers with `script`; returns the error it ends with.
    func failure(timeout: TimeInterval = 20, _ script: @escaping @Sendable (Data) -> [HostileHTTPServer.Step]) async throws -> Error {
        let server = try HostileHTTPServer(script: script)
        defer { server.stop() }
        let tiny = try EndToEndTests.models.get()
        let cloud = CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1), timeout: timeout)
        do {
            _ = try await HybridGenerator(device: tiny.device, cloud: cloud)
                .generate(prompt: Self.prompt, mode: .obclip, settings: Self.settings, seed: 5)
        } catch {
            return error
        }
        XCTFail("the device accepted the hostile answer")
        throw CancellationError()
    }

    /// Expects the response to be rejected by validation, naming `field`.
    func expectInvalid(_ body: Data, field: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let error = try await failure { _ in [.send(HostileHTTPServer.response(body: body))] }
        guard case CloudClientError.invalidResponse(let invalid) = error else {
            return XCTFail("expected an invalid-response error naming \(field), got \(error)", file: file, line: line)
        }
        XCTAssertEqual(invalid.field, field, invalid.description, file: file, line: line)
    }

    func encoded(_ edit: (inout GenerationResponse) -> Void) async throws -> Data {
        var response = try await Self.honest().response
        edit(&response)
        return try ResponseCodec.encode(response)
    }

    func testHonestAnswerIsAcceptedOverTheRawServer() async throws {
        let body = try await encoded { _ in }
        let server = try HostileHTTPServer { _ in [.send(HostileHTTPServer.response(body: body))] }
        defer { server.stop() }
        let tiny = try EndToEndTests.models.get()
        let outcome = try await HybridGenerator(device: tiny.device, cloud: CloudClient(server: server.url))
            .generate(prompt: Self.prompt, mode: .obclip, settings: Self.settings, seed: 5)
        XCTAssertEqual(outcome.latent.shape, [1, 4, 8, 8], "the scripted server itself is a valid peer")
    }

    func testWrongCountShapeAndValuesAreRejected() async throws {
        let n = try await Self.honest().request.candidates.count
        try await expectInvalid(try await encoded { r in
            r.latents = WireTensor(shape: [n - 1, 4, 8, 8], scalars: Array(r.latents.scalars.prefix((n - 1) * 256)))
        }, field: "latents")
        try await expectInvalid(try await encoded { r in r.latents = WireTensor(shape: [n, 4, 16, 4], scalars: r.latents.scalars) }, field: "latents")
        try await expectInvalid(try await encoded { r in r.latents.scalars[17] = .nan }, field: "latents")
        try await expectInvalid(try await encoded { r in r.latents.scalars[3] = -.infinity }, field: "latents")
        try await expectInvalid(try await encoded { r in
            r.continuation.perCandidate["model_output"]!.scalars[0] = .infinity
        }, field: "state.candidate.model_output")
        try await expectInvalid(try await encoded { r in
            r.continuation.perCandidate["model_output"] = WireTensor(shape: [n, 4, 4, 16], scalars: r.latents.scalars)
        }, field: "state.candidate.model_output")
    }

    func testWrongDtypeExtraAndMissingTensorsAreRejected() async throws {
        let honest = try await encoded { _ in }
        let reader = try SafeTensorsReader(bytes: honest)
        func rebuilt(_ edit: (inout SafeTensorsWriter, String) throws -> Void) throws -> Data {
            var writer = SafeTensorsWriter(metadata: reader.metadata)
            for name in reader.floatTensorNames { try edit(&writer, name) }
            return writer.serialized()
        }
        try await expectInvalid(try rebuilt { w, name in
            try w.add(name, shape: reader.entries[name]!.shape, scalars: try reader.floats(name))
            if name == ResponseCodec.latentsKey { try w.add("debug.real_index", shape: [1], scalars: [2]) }
        }, field: "debug.real_index")
        try await expectInvalid(try rebuilt { w, name in
            if name != ResponseCodec.generatorStateKey { try w.add(name, shape: reader.entries[name]!.shape, scalars: try reader.floats(name)) }
        }, field: ResponseCodec.generatorStateKey)
        try await expectInvalid(retyped(honest, tensor: ResponseCodec.latentsKey, to: "I32"), field: ResponseCodec.latentsKey)
    }

    func testStateThatDoesNotMatchTheRequestIsRejected() async throws {
        try await expectInvalid(try await encoded { r in r.continuation.completedSteps = 1 }, field: ResponseCodec.completedStepsKey)
        try await expectInvalid(try await encoded { r in r.continuation.scheduler = "ddim" }, field: ResponseCodec.schedulerKey)
        try await expectInvalid(try await encoded { r in r.version = 2 }, field: ResponseCodec.versionKey)
        // The opaque scheduler state itself claims another step than k: caught by the device.
        let body = try await encoded { r in
            var state = try! SchedulerState(encoded: Data(r.continuation.schedulerState))
            state.stepIndex = 3
            r.continuation.schedulerState = Array(state.encoded())
        }
        let error = try await failure { _ in [.send(HostileHTTPServer.response(body: body))] }
        XCTAssertEqual((error as? ResponseError)?.field, ResponseCodec.schedulerStateKey, "\(error)")
        // And garbage where the generator state should be.
        let garbage = try await encoded { r in r.continuation.generatorState = [1, 2, 3] }
        let generatorError = try await failure { _ in [.send(HostileHTTPServer.response(body: garbage))] }
        XCTAssertFalse("\(generatorError)".isEmpty)
    }

    func testNotSafetensorsAtAll() async throws {
        try await expectInvalid(Data("<html>hello</html>".utf8), field: "body")
        try await expectInvalid(Data(), field: "body")
        var lying = Data(count: 8)
        lying[0] = 0xff; lying[1] = 0xff; lying[2] = 0xff; lying[3] = 0x7f  // header length far past the body
        try await expectInvalid(lying, field: "body")
    }

    func testTruncatedBodyIsATransportError() async throws {
        let body = try await encoded { _ in }
        let error = try await failure { _ in
            [.send(HostileHTTPServer.response(body: body.prefix(body.count / 2), length: body.count))]
        }
        guard case CloudClientError.transport = error else { return XCTFail("expected a transport error, got \(error)") }
    }

    func testHugeBodiesAreCutAtTheResponseBound() async throws {
        let request = try await Self.honest().request
        let limit = GenerationResponse.maximumEncodedBytes(for: request)
        // Announced: a Content-Length no valid answer can have.
        var error = try await failure { _ in [.send(HostileHTTPServer.response(body: Data(count: 16), length: 1 << 40))] }
        guard case CloudClientError.responseTooLarge(limit) = error else { return XCTFail("expected responseTooLarge(\(limit)), got \(error)") }
        // Unannounced: a close-delimited body that never ends; the device stops reading at the bound.
        let chunk = Data(repeating: 0x41, count: 64 * 1024)
        error = try await failure { _ in
            [.send(Data("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".utf8))] + Array(repeating: .send(chunk), count: limit / chunk.count + 64)
        }
        guard case CloudClientError.responseTooLarge(limit) = error else { return XCTFail("expected responseTooLarge(\(limit)), got \(error)") }
    }

    func testRedirectsAreNotFollowed() async throws {
        let elsewhere = try await LoopbackServer.start(backend: try PacedBackend())
        let location = elsewhere.url.appendingPathComponent("v1/generate").absoluteString
        let error = try await failure { _ in
            [.send(HostileHTTPServer.response(status: 307, headers: ["Location": location], body: Data()))]
        }
        let served = (elsewhere.running.service.metrics.count(.ok), elsewhere.running.service.metrics.count(.invalid))
        try await elsewhere.shutdown()
        guard case CloudClientError.redirected(307, location) = error else { return XCTFail("expected a refused redirect, got \(error)") }
        XCTAssertEqual(served.0 + served.1, 0, "the candidate set went to the redirect target")
    }

    func testSlowDripIsCutAtTheAttemptDeadline() async throws {
        let answer = HostileHTTPServer.response(body: try await encoded { _ in })
        let started = ContinuousClock.now
        let error = try await failure(timeout: 1.5) { _ in [.drip(answer, chunk: 16, pause: .milliseconds(50))] }
        let elapsed = ContinuousClock.now - started
        guard case CloudClientError.transport(let message) = error else { return XCTFail("expected a time-out, got \(error)") }
        XCTAssertTrue(message.contains("1.5 s"), message)
        XCTAssertLessThan(elapsed, .seconds(10), "the drip (\(answer.count / 16 * 50) ms in all) was cut at the deadline")
    }

    func testSilenceAfterTheHeadIsCutAtTheReadTimeout() async throws {
        let (request, response) = try await Self.honest()
        let answer = HostileHTTPServer.response(body: try ResponseCodec.encode(response))
        let server = try HostileHTTPServer { _ in [.send(answer.prefix(answer.count / 2)), .pause(.seconds(10))] }
        defer { server.stop() }
        let started = ContinuousClock.now
        do {
            _ = try await CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1), timeout: 20, readTimeout: 0.5).generate(request)
            XCTFail("a stalled answer was accepted")
        } catch CloudClientError.transport(let message) {
            XCTAssertTrue(message.contains("stopped sending its answer for 0.5 s"), message)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "cut at the read time-out, not the attempt deadline")
    }

    func testCancellingTheTaskStopsTheExchange() async throws {
        let request = try await Self.honest().request
        let server = try HostileHTTPServer { _ in [.pause(.seconds(10))] }
        defer { server.stop() }
        let exchange = Task { try await CloudClient(server: server.url, retry: RetryPolicy(maxAttempts: 1)).generate(request) }
        while server.requests == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let cancelled = ContinuousClock.now
        exchange.cancel()
        do {
            _ = try await exchange.value
            XCTFail("a cancelled exchange returned an answer")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - cancelled, .seconds(2), "the exchange went on after its task was cancelled")
    }

    func testGarbageInsteadOfHTTP() async throws {
        let error = try await failure { _ in [.send(Data("SSH-2.0-OpenSSH_9.2\r\n".utf8))] }
        guard case CloudClientError.transport = error else { return XCTFail("expected a transport error, got \(error)") }
    }
}

/// `body` with one tensor's dtype string changed in the safetensors JSON header (same element
/// size, so only the dtype is wrong).
func retyped(_ body: Data, tensor: String, to dtype: String) -> Data {
    let headerLength = Int(body.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
    var header = try! JSONSerialization.jsonObject(with: body.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
    var entry = header[tensor] as! [String: Any]
    entry["dtype"] = dtype
    header[tensor] = entry
    var json = try! JSONSerialization.data(withJSONObject: header)
    while json.count % 8 != 0 { json.append(0x20) }
    var length = UInt64(json.count).littleEndian
    return Data(bytes: &length, count: 8) + json + body.subdata(in: (8 + headerLength)..<body.count)
}
