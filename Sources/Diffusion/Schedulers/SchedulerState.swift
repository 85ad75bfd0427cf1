import Foundation
import SafeTensors
import TensorCore

/// Everything a scheduler needs to continue a trajectory after some step: the step index, small
/// integer counters and the multistep history tensors (DPM-Solver++'s last x̂₀, PNDM's past ε and
/// stored sample).
///
/// It is shaped like a safetensors file — string metadata plus named float32 tensors — so the
/// wire protocol can embed it as is, and `encoded()` / `init(encoded:)` give it as safetensors
/// bytes. Resuming a scheduler from a decoded state gives bit-identical results to never having
/// stopped.
public struct SchedulerState: @unchecked Sendable {
    /// Which scheduler produced the state.
    public var kind: SchedulerKind
    /// Number of inference steps the schedule was built for.
    public var steps: Int
    /// Number of `step` calls already made (the index of the next model call).
    public var stepIndex: Int
    /// Scheduler-specific counters (e.g. DPM-Solver++'s `lower_order_nums`).
    public var counters: [String: Int]
    /// Scheduler-specific history tensors (e.g. `model_output`, `ets.0`, `cur_sample`).
    public var tensors: [String: Tensor]

    public init(kind: SchedulerKind, steps: Int, stepIndex: Int, counters: [String: Int] = [:],
                tensors: [String: Tensor] = [:]) {
        self.kind = kind
        self.steps = steps
        self.stepIndex = stepIndex
        self.counters = counters
        self.tensors = tensors
    }

    /// The state's scalars as safetensors-style string metadata: `scheduler`, `steps`,
    /// `step_index` and every counter.
    public var metadata: [String: String] {
        var metadata = ["scheduler": kind.rawValue, "steps": String(steps), "step_index": String(stepIndex)]
        for (key, value) in counters { metadata[key] = String(value) }
        return metadata
    }

    /// Rebuilds a state from `metadata` (as produced by `metadata`) and named tensors.
    public init(metadata: [String: String], tensors: [String: Tensor]) throws {
        func integer(_ key: String) throws -> Int {
            guard let text = metadata[key] else { throw SchedulerError.invalidState("missing metadata '\(key)'") }
            guard let value = Int(text), value >= 0 else {
                throw SchedulerError.invalidState("metadata '\(key)' = '\(text)' is not a non-negative integer")
            }
            return value
        }
        guard let name = metadata["scheduler"] else { throw SchedulerError.invalidState("missing metadata 'scheduler'") }
        guard let kind = SchedulerKind(rawValue: name) else {
            throw SchedulerError.invalidState("unknown scheduler '\(name)'")
        }
        var counters: [String: Int] = [:]
        for key in metadata.keys where !["scheduler", "steps", "step_index"].contains(key) {
            counters[key] = try integer(key)
        }
        self.init(kind: kind, steps: try integer("steps"), stepIndex: try integer("step_index"),
                  counters: counters, tensors: tensors)
    }

    /// The state as a safetensors byte string.
    public func encoded() -> Data {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            // Only an empty or reserved tensor name can be rejected; schedulers never make one.
            do { try writer.add(name, shape: tensor.shape, scalars: tensor.scalars) } catch {
                preconditionFailure("scheduler state tensor '\(name)' cannot be written: \(error)")
            }
        }
        return writer.serialized()
    }

    /// Checks that every history tensor has the shape of the latents it will be combined with
    /// (a state received over the network must pass this before `restore`).
    public func validateHistory(latentShape: [Int]) throws {
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) where tensor.shape != latentShape {
            throw SchedulerError.invalidState("tensor '\(name)' has shape \(tensor.shape), the latents have \(latentShape)")
        }
    }

    /// Decodes `encoded()` bytes; throws naming what is malformed.
    public init(encoded: Data) throws {
        let reader: SafeTensorsReader
        do { reader = try SafeTensorsReader(bytes: encoded, source: "<scheduler state>") } catch {
            throw SchedulerError.invalidState("not a safetensors byte string: \(error)")
        }
        var tensors: [String: Tensor] = [:]
        for (name, entry) in reader.entries {
            guard entry.dtype == .f32 else {
                throw SchedulerError.invalidState("tensor '\(name)' has dtype \(entry.dtype.rawValue), expected F32")
            }
            tensors[name] = Tensor(shape: entry.shape, scalars: try reader.floats(name))
        }
        try self.init(metadata: reader.metadata, tensors: tensors)
    }

    /// Checks that the state belongs to `kind` with `steps` steps and holds a valid step index.
    func validate(kind expected: SchedulerKind, steps expectedSteps: Int, modelCalls: Int) throws {
        guard kind == expected else {
            throw SchedulerError.invalidState("state is for scheduler '\(kind.rawValue)', not '\(expected.rawValue)'")
        }
        guard steps == expectedSteps else {
            throw SchedulerError.invalidState("state is for \(steps) steps, the scheduler was built for \(expectedSteps)")
        }
        guard stepIndex <= modelCalls else {
            throw SchedulerError.invalidState("step_index \(stepIndex) is past the \(modelCalls) model calls")
        }
    }

    /// A history tensor that must be present.
    func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else { throw SchedulerError.invalidState("missing tensor '\(name)'") }
        return tensor
    }
}

extension SchedulerState: Equatable {
    public static func == (lhs: SchedulerState, rhs: SchedulerState) -> Bool {
        lhs.kind == rhs.kind && lhs.steps == rhs.steps && lhs.stepIndex == rhs.stepIndex
            && lhs.counters == rhs.counters && lhs.tensors.keys == rhs.tensors.keys
            && lhs.tensors.allSatisfy { name, tensor in
                let other = rhs.tensors[name]!
                return other.shape == tensor.shape && other.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern)
            }
    }
}
