import Foundation
import TensorCore
import XCTest
@testable import Diffusion

/// Stopping a trajectory after step k, serialising scheduler + generator state and resuming in a
/// freshly built scheduler must reproduce the uninterrupted run bit for bit.
final class SchedulerStateTests: XCTestCase {
    /// A deterministic stand-in for the UNet that depends on the input and the timestep.
    private func fakeModel(_ input: Tensor, _ timestep: Double) -> Tensor {
        var k: Float = 0
        return LatentArithmetic.map(input) { x in
            k += 1
            return 0.6 * x + 0.3 * sinf(k * 0.37 + Float(timestep) / 97)
        }
    }

    private func run(_ scheduler: inout any Scheduler, _ sample: Tensor, _ generator: inout TorchGenerator, calls: Range<Int>) -> Tensor {
        var x = sample
        for i in calls {
            let output = fakeModel(scheduler.scaleModelInput(x, index: i), scheduler.timesteps[i])
            x = scheduler.step(modelOutput: output, sample: x, generator: &generator)
        }
        return x
    }

    func testResumeFromDecodedStateIsBitExact() throws {
        let configs: [(SchedulerKind, SchedulerConfig)] = SchedulerKind.allCases.map { ($0, .stableDiffusion15) }
            + [(.dpmSolverPlusPlus2M, SchedulerConfig.stableDiffusion15.setting("use_karras_sigmas", to: true))]
        for (kind, config) in configs {
            for steps in [4, 12, 25] {
                var full = try kind.makeScheduler(config: config, steps: steps)
                let calls = full.timesteps.count
                var generator = TorchGenerator(seed: 77)
                let start = full.initialLatents(shape: [2, 4, 3, 3], generator: &generator)
                var fullGenerator = generator
                let reference = run(&full, start, &fullGenerator, calls: 0..<calls)
                for k in Set([0, 1, 2, 3, calls / 2, calls - 1, calls]) {
                    var first = try kind.makeScheduler(config: config, steps: steps)
                    var firstGenerator = generator
                    let midway = run(&first, start, &firstGenerator, calls: 0..<k)
                    // Everything that crosses the wire: latents, scheduler state, generator state.
                    let stateBytes = first.state.encoded()
                    let generatorBytes = firstGenerator.encoded()
                    var second = try kind.makeScheduler(config: config, steps: steps)
                    let decoded = try SchedulerState(encoded: stateBytes)
                    try decoded.validateHistory(latentShape: midway.shape)
                    try second.restore(decoded)
                    XCTAssertEqual(second.state, first.state, "\(kind) \(steps) steps, k = \(k)")
                    var secondGenerator = try TorchGenerator(encoded: generatorBytes)
                    let resumed = run(&second, midway, &secondGenerator, calls: k..<calls)
                    XCTAssertEqual(resumed.scalars.map(\.bitPattern), reference.scalars.map(\.bitPattern),
                                   "\(kind) \(steps) steps resumed after k = \(k)")
                    XCTAssertEqual(secondGenerator, fullGenerator, "\(kind) generator after resuming at k = \(k)")
                }
            }
        }
    }

    func testStateCarriesTheMultistepHistory() throws {
        var dpm = try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(steps: 10)
        var pndm = try SchedulerKind.pndm.makeScheduler(steps: 10)
        var generator = TorchGenerator(seed: 1)
        let x = generator.randn([1, 4, 2, 2])
        _ = run(&dpm, x, &generator, calls: 0..<3)
        XCTAssertEqual(dpm.state.metadata["step_index"], "3")
        XCTAssertEqual(dpm.state.counters["lower_order_nums"], 2)
        XCTAssertEqual(dpm.state.tensors.keys.sorted(), ["model_output"])
        _ = run(&pndm, x, &generator, calls: 0..<1)
        XCTAssertEqual(pndm.state.tensors.keys.sorted(), ["cur_sample", "ets.0"])
        _ = run(&pndm, x, &generator, calls: 1..<7)
        XCTAssertEqual(pndm.state.tensors.keys.sorted(), ["ets.0", "ets.1", "ets.2", "ets.3"])
    }

    func testRestoreRejectsStateOfAnotherSchedule() throws {
        var euler = try SchedulerKind.euler.makeScheduler(steps: 10)
        let ddimState = try SchedulerKind.ddim.makeScheduler(steps: 10).state
        XCTAssertThrowsError(try euler.restore(ddimState)) { XCTAssertTrue("\($0)".contains("'ddim'"), "\($0)") }
        let otherSteps = try SchedulerKind.euler.makeScheduler(steps: 20).state
        XCTAssertThrowsError(try euler.restore(otherSteps)) { XCTAssertTrue("\($0)".contains("20 steps"), "\($0)") }

        var dpm = try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(steps: 10)
        let missingHistory = SchedulerState(kind: .dpmSolverPlusPlus2M, steps: 10, stepIndex: 4, counters: ["lower_order_nums": 2])
        XCTAssertThrowsError(try dpm.restore(missingHistory)) { XCTAssertTrue("\($0)".contains("model_output"), "\($0)") }
        let pastEnd = SchedulerState(kind: .euler, steps: 10, stepIndex: 11)
        XCTAssertThrowsError(try euler.restore(pastEnd)) { XCTAssertTrue("\($0)".contains("step_index 11"), "\($0)") }
    }

    func testHistoryShapeIsChecked() throws {
        var dpm = try SchedulerKind.dpmSolverPlusPlus2M.makeScheduler(steps: 10)
        var generator = TorchGenerator(seed: 2)
        _ = run(&dpm, generator.randn([1, 4, 2, 2]), &generator, calls: 0..<2)
        XCTAssertNoThrow(try dpm.state.validateHistory(latentShape: [1, 4, 2, 2]))
        XCTAssertThrowsError(try dpm.state.validateHistory(latentShape: [2, 4, 2, 2])) {
            XCTAssertTrue("\($0)".contains("'model_output'"), "\($0)")
        }
    }

    func testStateDecodingRejectsMalformedBytes() {
        XCTAssertThrowsError(try SchedulerState(encoded: Data([1, 2, 3]))) {
            XCTAssertTrue("\($0)".contains("not a safetensors"), "\($0)")
        }
        XCTAssertThrowsError(try SchedulerState(metadata: ["scheduler": "dpm++2m", "steps": "ten", "step_index": "0"], tensors: [:])) {
            XCTAssertTrue("\($0)".contains("'steps'"), "\($0)")
        }
        XCTAssertThrowsError(try SchedulerState(metadata: ["scheduler": "heun", "steps": "10", "step_index": "0"], tensors: [:])) {
            XCTAssertTrue("\($0)".contains("heun"), "\($0)")
        }
    }
}
