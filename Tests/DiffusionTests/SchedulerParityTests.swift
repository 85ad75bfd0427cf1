import Foundation
import SafeTensors
import TensorCore
import XCTest
@testable import Diffusion

/// Every scheduler against diffusers 0.42 (fixtures from tools/fixtures_schedulers.py): timesteps,
/// σ, initial noise scale, model inputs and every step's output, to ≤ 1e-6 of the reference scale.
final class SchedulerParityTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let kind: String
        let steps: Int
        let seed: UInt64
        let init_noise_sigma: Double
        let config: [String: ConfigEntry]
    }

    /// A JSON config value re-encoded for `SchedulerConfig(json:)`.
    struct ConfigEntry: Codable {
        let value: Any?
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { value = nil }
            else if let b = try? c.decode(Bool.self) { value = b }
            else if let d = try? c.decode(Double.self) { value = d }
            else { value = try c.decode(String.self) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch value {
            case let b as Bool: try c.encode(b)
            case let d as Double: try c.encode(d)
            case let s as String: try c.encode(s)
            default: try c.encodeNil()
            }
        }
    }

    static func loadCases() throws -> (SafeTensorsReader, [Case]) {
        let reader = try SafeTensorsReader(contentsOf: Fixtures.url("schedulers/schedulers.safetensors"))
        let cases = try JSONDecoder().decode([Case].self, from: Data(reader.metadata["cases"]!.utf8))
        return (reader, cases)
    }

    static func makeScheduler(_ testCase: Case) throws -> any Scheduler {
        let json = try JSONEncoder().encode(testCase.config)
        let config = try SchedulerConfig(json: json, source: testCase.name)
        return try SchedulerKind(name: testCase.kind).makeScheduler(config: config, steps: testCase.steps)
    }

    /// Rows of a stacked fixture tensor `[count, 1, 4, 2, 4]`.
    static func rows(_ reader: SafeTensorsReader, _ name: String) throws -> [Tensor] {
        let entry = try reader.entry(name)
        let all = try reader.floats(name)
        let shape = Array(entry.shape.dropFirst())
        let size = shape.reduce(1, *)
        return (0..<entry.shape[0]).map { Tensor(shape: shape, scalars: Array(all[($0 * size)..<(($0 + 1) * size)])) }
    }

    func testEveryCaseMatchesDiffusers() throws {
        let (reader, cases) = try Self.loadCases()
        XCTAssertGreaterThanOrEqual(cases.count, 45)
        for testCase in cases {
            var scheduler = try Self.makeScheduler(testCase)
            let expectedTimesteps = try reader.floats("\(testCase.name)/timesteps")
            assertClose(scheduler.timesteps.map { Float($0) }, expectedTimesteps, relativeTo: 1e-6, "\(testCase.name) timesteps")
            if reader.entries["\(testCase.name)/sigmas"] != nil {
                let sigmas: [Float]
                switch scheduler {
                case let s as EulerDiscreteScheduler: sigmas = s.sigmas
                case let s as EulerAncestralDiscreteScheduler: sigmas = s.sigmas
                case let s as DPMSolverMultistepScheduler: sigmas = s.sigmas
                default: XCTFail("\(testCase.name): unexpected scheduler type"); continue
                }
                assertClose(sigmas, try reader.floats("\(testCase.name)/sigmas"), relativeTo: 1e-6, "\(testCase.name) sigmas")
            }
            XCTAssertEqual(Double(scheduler.initNoiseSigma), testCase.init_noise_sigma,
                           accuracy: 1e-6 * testCase.init_noise_sigma, testCase.name)

            let inputs = try Self.rows(reader, "\(testCase.name)/model_inputs")
            let outputs = try Self.rows(reader, "\(testCase.name)/model_outputs")
            let samples = try Self.rows(reader, "\(testCase.name)/samples")
            XCTAssertEqual(outputs.count, scheduler.timesteps.count, "\(testCase.name): model call count")
            // Each step is checked from the reference input (so the bound applies per step);
            // a second, free-running copy checks that float rounding does not drift over the
            // whole trajectory.
            var generator = TorchGenerator(seed: testCase.seed)
            let noise = generator.randn(samples[0].shape)
            var chained = scheduler
            var chainedGenerator = generator
            var chainedSample = LatentArithmetic.map(noise) { $0 * scheduler.initNoiseSigma }
            var latentGenerator = TorchGenerator(seed: testCase.seed)
            XCTAssertEqual(scheduler.initialLatents(shape: samples[0].shape, generator: &latentGenerator).scalars, chainedSample.scalars)
            assertClose(chainedSample.scalars, samples[0].scalars, relativeTo: 1e-6, "\(testCase.name) initial latents")
            for i in 0..<outputs.count {
                assertClose(scheduler.scaleModelInput(samples[i], index: i).scalars, inputs[i].scalars, relativeTo: 1e-6,
                            "\(testCase.name) model input \(i)")
                let next = scheduler.step(modelOutput: outputs[i], sample: samples[i], generator: &generator)
                assertClose(next.scalars, samples[i + 1].scalars, relativeTo: 1e-6, "\(testCase.name) step \(i)")
                chainedSample = chained.step(modelOutput: outputs[i], sample: chainedSample, generator: &chainedGenerator)
            }
            assertClose(chainedSample.scalars, samples[outputs.count].scalars, relativeTo: 1e-5, "\(testCase.name) whole trajectory")
            XCTAssertEqual(scheduler.stepIndex, outputs.count)
        }
    }

    func testTrainingScheduleMatchesDiffusers() throws {
        let (reader, _) = try Self.loadCases()
        for schedule in ["linear", "scaled_linear", "squaredcos_cap_v2"] {
            let config = SchedulerConfig.stableDiffusion15.setting("beta_schedule", to: schedule)
            let noise = try NoiseSchedule(config: config)
            assertClose(noise.alphasCumprod, try reader.floats("alphas_cumprod/\(schedule)"), relativeTo: 1e-6, schedule)
        }
    }

    func testPNDMMakesOneMoreModelCallThanSteps() throws {
        let pndm = try SchedulerKind.pndm.makeScheduler(steps: 25)
        XCTAssertEqual(pndm.timesteps.count, 26)
        XCTAssertEqual(Array(pndm.timesteps.prefix(3)), [961, 921, 921])
    }
}
