import Foundation
import XCTest
@testable import Diffusion

/// Scheduler names, config parsing and the errors bad input gets.
final class SchedulerConfigTests: XCTestCase {
    func testNamesParse() throws {
        for kind in SchedulerKind.allCases {
            XCTAssertEqual(try SchedulerKind(name: kind.rawValue), kind)
            XCTAssertEqual(try SchedulerKind(name: kind.diffusersClassName), kind)
        }
        XCTAssertEqual(SchedulerKind.default, .dpmSolverPlusPlus2M)
        XCTAssertEqual(SchedulerKind.defaultSteps, 25)
        XCTAssertThrowsError(try SchedulerKind(name: "heun")) { error in
            XCTAssertEqual("\(error)", "unknown scheduler 'heun'; expected one of: ddim, pndm, euler, euler-a, dpm++2m, lcm")
        }
    }

    func testReadsModelDirectoryConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("scheduler"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = #"{"_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "timestep_spacing": "leading", "steps_offset": 1, "trained_betas": null}"#
        try Data(json.utf8).write(to: directory.appendingPathComponent("scheduler/scheduler_config.json"))
        let config = try SchedulerConfig(contentsOf: directory)
        XCTAssertEqual(config.kind, .euler)
        let euler = try SchedulerKind.euler.makeScheduler(config: config, steps: 10)
        XCTAssertEqual(euler.timesteps.first, 901)  // leading: 9·100 + offset 1
    }

    func testBadInputNamesFileAndKey() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let missing = message { _ = try SchedulerConfig(contentsOf: URL(fileURLWithPath: "/nonexistent/scheduler_config.json")) }
        XCTAssertTrue(missing.contains("/nonexistent/scheduler_config.json"), missing)
        XCTAssertTrue(message { _ = try SchedulerConfig(json: Data("[1]".utf8), source: "x.json") }.contains("x.json"))
        let wrongType = message {
            _ = try DDIMScheduler(config: try SchedulerConfig(json: Data(#"{"beta_start": "small"}"#.utf8), source: "c.json"), steps: 10)
        }
        XCTAssertTrue(wrongType.contains("c.json") && wrongType.contains("'beta_start'"), wrongType)
        let unknownSchedule = message {
            _ = try EulerDiscreteScheduler(config: SchedulerConfig.stableDiffusion15.setting("beta_schedule", to: "quadratic"), steps: 10)
        }
        XCTAssertTrue(unknownSchedule.contains("beta_schedule = quadratic"), unknownSchedule)
        let prk = message { _ = try PNDMScheduler(config: SchedulerConfig(), steps: 10) }
        XCTAssertTrue(prk.contains("skip_prk_steps"), prk)
        let order3 = message { _ = try DPMSolverMultistepScheduler(config: SchedulerConfig().setting("solver_order", to: 3), steps: 10) }
        XCTAssertTrue(order3.contains("solver_order"), order3)
        let tooMany = message { _ = try SchedulerKind.ddim.makeScheduler(steps: 1001) }
        XCTAssertTrue(tooMany.contains("1001"), tooMany)
        let zero = message { _ = try SchedulerKind.euler.makeScheduler(steps: 0) }
        XCTAssertTrue(zero.contains("at least 1"), zero)
        let lcm = message { _ = try SchedulerKind.lcm.makeScheduler(steps: 51) }
        XCTAssertTrue(lcm.contains("original_inference_steps"), lcm)
        // Regression (found by `scripts/fuzz.sh ModelConfig`): 10⁸ training timesteps built
        // gigabyte tables for over a minute instead of being refused.
        for count in [1, 100_000_000] {
            let huge = message { _ = try DDIMScheduler(config: SchedulerConfig().setting("num_train_timesteps", to: count), steps: 10) }
            XCTAssertTrue(huge.contains("num_train_timesteps") && huge.contains("2...100000"), huge)
        }
    }

    func testFromConfigTakesTargetDefaultsForMissingKeys() throws {
        // SD1.5's PNDM config has no timestep_spacing: Euler keeps linspace (fractional timesteps),
        // DDIM keeps leading with the config's steps_offset.
        let euler = try SchedulerKind.euler.makeScheduler(steps: 4)
        XCTAssertEqual(euler.timesteps, [999, 666, 333, 0])
        let ddim = try SchedulerKind.ddim.makeScheduler(steps: 4)
        XCTAssertEqual(ddim.timesteps, [751, 501, 251, 1])
        let eulerTen = try SchedulerKind.euler.makeScheduler(steps: 10)
        XCTAssertEqual(eulerTen.timesteps[1], Double(Float(888.0)), accuracy: 1e-9)
    }
}
