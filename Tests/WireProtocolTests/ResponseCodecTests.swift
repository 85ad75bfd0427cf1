import Foundation
import XCTest
import WireProtocol

final class ResponseCodecTests: XCTestCase {
    let request = GenerationRequest(candidates: ["a photo of a man", "a photo of a woman", "a photo of a person"],
                                    seed: 42, steps: 6, switchStep: 2, width: 64, height: 128)

    func makeResponse() -> GenerationResponse {
        let n = 3, count = n * 4 * 16 * 8
        let latents = WireTensor(shape: [n, 4, 16, 8], scalars: (0..<count).map { Float($0) * 0.001 - 0.7 })
        let history = WireTensor(shape: [n, 4, 16, 8], scalars: (0..<count).map { sin(Float($0)) })
        let continuation = ContinuationState(scheduler: "dpm++2m", completedSteps: 2, totalSteps: 6,
                                             perCandidate: ["previous_model_output": history],
                                             schedulerState: [0, 1, 2, 255, 128], generatorState: Array(repeating: 7, count: 2500))
        let accounting = ServerAccounting(phaseSeconds: ["queue": 0.01, "textEncoding": 0.2, "denoising": 1.5, "total": 1.71],
                                          executedMultiplyAdds: 123_456_789_012, sharedAttentionMaps: 4, batchedRequests: 2)
        return GenerationResponse(latents: latents, continuation: continuation, accounting: accounting)
    }

    func testRoundTripIsExact() throws {
        let response = makeResponse()
        let body = try ResponseCodec.encode(response)
        let decoded = try ResponseCodec.decode(body)
        XCTAssertEqual(decoded, response)
        XCTAssertNoThrow(try decoded.validate(for: request))
        // Deterministic bytes: encoding twice gives the same body.
        XCTAssertEqual(try ResponseCodec.encode(response), body)
    }

    func testExtractKeepsOneCandidate() throws {
        let response = makeResponse()
        let kept = response.extract(candidate: 1)
        XCTAssertEqual(kept.latent.shape, [1, 4, 16, 8])
        XCTAssertEqual(kept.latent.scalars, Array(response.latents.scalars[512..<1024]))
        XCTAssertEqual(kept.perCandidateState["previous_model_output"]?.scalars,
                       Array(response.continuation.perCandidate["previous_model_output"]!.scalars[512..<1024]))
        XCTAssertEqual(kept.generatorState.count, 2500)
        XCTAssertEqual(kept.completedSteps, 2)
    }

    func field(_ response: GenerationResponse, for request: GenerationRequest? = nil) -> String? {
        do {
            try response.validate(for: request ?? self.request)
            return nil
        } catch let e as ResponseError {
            return e.field
        } catch {
            return "unexpected \(error)"
        }
    }

    func testValidationNamesEachFault() {
        let good = makeResponse()
        XCTAssertNil(field(good))
        var r = good; r.latents = WireTensor(shape: [2, 4, 16, 8], scalars: Array(good.latents.scalars[0..<1024]))
        XCTAssertEqual(field(r), "latents", "wrong candidate count")
        r = good; r.latents = WireTensor(shape: [3, 4, 8, 16], scalars: good.latents.scalars)
        XCTAssertEqual(field(r), "latents", "transposed size")
        r = good; r.latents.scalars[17] = .nan
        XCTAssertEqual(field(r), "latents", "NaN")
        r = good; r.latents.scalars[3] = .infinity
        XCTAssertEqual(field(r), "latents", "infinity")
        r = good; r.version = 2
        XCTAssertEqual(field(r), "obclip.protocol_version")
        r = good; r.continuation.scheduler = "ddim"
        XCTAssertEqual(field(r), "obclip.scheduler")
        r = good; r.continuation.completedSteps = 3
        XCTAssertEqual(field(r), "obclip.completed_steps")
        r = good; r.continuation.totalSteps = 7
        XCTAssertEqual(field(r), "obclip.total_steps")
        r = good; r.continuation.schedulerState = []
        XCTAssertEqual(field(r), "state.scheduler")
        r = good; r.continuation.generatorState = []
        XCTAssertEqual(field(r), "state.generator")
        r = good; r.continuation.perCandidate["previous_model_output"] = WireTensor(shape: [1, 4], scalars: [0, 0, 0, 0])
        XCTAssertEqual(field(r), "state.candidate.previous_model_output")
        r = good; r.continuation.perCandidate["previous_model_output"]!.scalars[0] = -.infinity
        XCTAssertEqual(field(r), "state.candidate.previous_model_output")
        r = good; r.accounting.phaseSeconds["total"] = -1
        XCTAssertEqual(field(r), "obclip.accounting")
    }

    func testDecodeRejectsMalformedBodies() throws {
        func decodeField(_ body: Data) -> String? {
            do { _ = try ResponseCodec.decode(body); return nil } catch let e as ResponseError { return e.field } catch { return "unexpected \(error)" }
        }
        XCTAssertEqual(decodeField(Data("{\"error\":{}}".utf8)), "body")
        XCTAssertEqual(decodeField(Data()), "body")
        let body = try ResponseCodec.encode(makeResponse())
        XCTAssertEqual(decodeField(body.prefix(body.count - 10)), "body", "truncated")

        // Containers that parse but miss a required part.
        var writer = SafeTensorsWriterProxy.container(dropping: ResponseCodec.generatorStateKey, from: makeResponse())
        XCTAssertEqual(decodeField(writer), "state.generator")
        writer = SafeTensorsWriterProxy.container(dropping: ResponseCodec.latentsKey, from: makeResponse())
        XCTAssertEqual(decodeField(writer), "latents")
        writer = SafeTensorsWriterProxy.container(droppingMetadata: ResponseCodec.versionKey, from: makeResponse())
        XCTAssertEqual(decodeField(writer), "obclip.protocol_version")
        writer = SafeTensorsWriterProxy.container(droppingMetadata: ResponseCodec.accountingKey, from: makeResponse())
        XCTAssertEqual(decodeField(writer), "obclip.accounting")
        writer = SafeTensorsWriterProxy.container(replacing: ResponseCodec.schedulerStateKey, with: [0.5, 3], from: makeResponse())
        XCTAssertEqual(decodeField(writer), "state.scheduler", "non-byte values in a byte state")
    }

    func testErrorEnvelopeShape() throws {
        let body = ErrorEnvelope(RequestError(.limitExceeded, field: "candidates", "too many")).encoded()
        let json = try JSONSerialization.jsonObject(with: body) as! [String: Any]
        let error = json["error"] as! [String: String]
        XCTAssertEqual(error, ["kind": "limitExceeded", "field": "candidates", "message": "too many"])
    }

    func testRequestJSONRoundTripAndFieldErrors() throws {
        let body = try request.encodedJSON()
        XCTAssertEqual(try GenerationRequest.decode(json: body), request)
        func decodeField(_ text: String) -> String? {
            do { _ = try GenerationRequest.decode(json: Data(text.utf8)); return nil } catch let e as RequestError { return e.field } catch { return "unexpected" }
        }
        var object = try JSONSerialization.jsonObject(with: body) as! [String: Any]
        object.removeValue(forKey: "seed")
        XCTAssertEqual(decodeField(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)), "seed")
        object = try JSONSerialization.jsonObject(with: body) as! [String: Any]
        object["candidates"] = ["ok", 5]
        XCTAssertEqual(decodeField(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)), "candidates[1]")
        XCTAssertEqual(decodeField("not json"), "body")
    }
}
