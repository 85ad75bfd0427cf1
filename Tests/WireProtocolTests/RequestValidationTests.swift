import XCTest
import WireProtocol

final class RequestValidationTests: XCTestCase {
    let limits = ServerLimits(maxCandidates: 8, maxSteps: 50, maxSwitchStep: 20, maxSide: 512, maxPromptTokens: 77)
    let schedulers: Set<String> = ["dpm++2m", "ddim"]

    func field(of request: GenerationRequest) -> String? {
        do {
            try request.validate(against: limits, knownSchedulers: schedulers) { $0.split(separator: " ").count + 2 }
            return nil
        } catch let e as RequestError {
            return e.field
        } catch {
            return "unexpected \(error)"
        }
    }

    func testValidRequestPasses() {
        XCTAssertNil(field(of: GenerationRequest(candidates: ["a man", "a woman"], seed: 1, width: 256, height: 256)))
        XCTAssertNil(field(of: GenerationRequest(candidates: ["a man"], seed: 1, steps: 25, switchStep: 10,
                                                 width: 256, height: 256, acceleration: .method(switchStep: 10))))
    }

    func testEachLimitIsNamed() {
        let base = GenerationRequest(candidates: ["a man", "a woman"], seed: 1, width: 256, height: 256)
        var r = base; r.candidates = (0..<9).map { "p\($0)" }
        XCTAssertEqual(field(of: r), "candidates")
        r = base; r.candidates = []
        XCTAssertEqual(field(of: r), "candidates")
        r = base; r.candidates = ["x", "x"]
        XCTAssertEqual(field(of: r), "candidates")
        r = base; r.steps = 51; r.switchStep = 10
        XCTAssertEqual(field(of: r), "steps")
        r = base; r.switchStep = 26
        XCTAssertEqual(field(of: r), "switchStep")
        r = base; r.steps = 50; r.switchStep = 21
        XCTAssertEqual(field(of: r), "switchStep")
        r = base; r.width = 1024
        XCTAssertEqual(field(of: r), "width")
        r = base; r.height = 100
        XCTAssertEqual(field(of: r), "height")
        r = base; r.scheduler = "magic"
        XCTAssertEqual(field(of: r), "scheduler")
        r = base; r.guidanceScale = .nan
        XCTAssertEqual(field(of: r), "guidanceScale")
        r = base; r.version = 2
        XCTAssertEqual(field(of: r), "version")
        r = base; r.candidates[1] = Array(repeating: "w", count: 80).joined(separator: " ")
        XCTAssertEqual(field(of: r), "candidates[1]")
        r = base; r.negativePrompt = Array(repeating: "w", count: 80).joined(separator: " ")
        XCTAssertEqual(field(of: r), "negativePrompt")
        r = base; r.acceleration = AccelerationOptions(reuse: true, cache: true, skip: true, cachePoint: 11, skipPoint: 3)
        XCTAssertEqual(field(of: r), "acceleration.cachePoint")
        r = base; r.acceleration = AccelerationOptions(reuse: false, cache: false, skip: true, cachePoint: 0, skipPoint: 0)
        XCTAssertEqual(field(of: r), "acceleration.skipPoint")
        r = base; r.acceleration = AccelerationOptions(reuse: false, cache: false, skip: true, cachePoint: 0, skipPoint: 11)
        XCTAssertEqual(field(of: r), "acceleration.skipPoint")
        r = base; r.acceleration = AccelerationOptions(reuse: true, cache: false, skip: false, cachePoint: 0, skipPoint: 0)
        XCTAssertEqual(field(of: r), "acceleration.cachePoint")
        r = base; r.acceleration = AccelerationOptions(reuse: false, cache: true, skip: false, cachePoint: 0, skipPoint: 0)
        XCTAssertEqual(field(of: r), "acceleration.cachePoint")
        r = base; r.acceleration = AccelerationOptions(reuse: true, cache: true, skip: true, cachePoint: 4, skipPoint: 6, refreshInterval: 0)
        XCTAssertEqual(field(of: r), "acceleration.refreshInterval")
    }

    func testMethodConfigurations() {
        let five = AccelerationOptions.method(switchStep: 5), ten = AccelerationOptions.method(switchStep: 10)
        XCTAssertEqual([five.cachePoint, five.skipPoint, ten.cachePoint, ten.skipPoint], [3, 3, 4, 6])
        XCTAssertEqual(five.refreshInterval, 5)
    }

    func testRequestRoundTripsThroughJSON() throws {
        let r = GenerationRequest(candidates: ["a man", "a woman"], seed: 42, acceleration: .method(switchStep: 10))
        let back = try JSONDecoder().decode(GenerationRequest.self, from: JSONEncoder().encode(r))
        XCTAssertEqual(back, r)
    }
}
