import Foundation
import SafeTensors

/// The wire format of `GenerationResponse`: one safetensors container.
///
/// Tensors: `latents` `[N,4,h,w]`; `state.candidate.<name>` per-candidate scheduler tensors
/// (leading dimension N); `state.scheduler` and `state.generator`, the opaque shared states as
/// rank-1 F32 tensors holding one byte value (0…255) per element — the container format is
/// all-F32 here, and every byte value is exact in f32. `__metadata__` carries the protocol
/// version, scheduler name, step counts and the server's accounting as JSON.
public enum ResponseCodec {
    /// MIME type of an encoded response.
    public static let contentType = "application/octet-stream"

    public static let latentsKey = "latents"
    public static let perCandidatePrefix = "state.candidate."
    public static let schedulerStateKey = "state.scheduler"
    public static let generatorStateKey = "state.generator"
    public static let versionKey = "obclip.protocol_version"
    public static let schedulerKey = "obclip.scheduler"
    public static let completedStepsKey = "obclip.completed_steps"
    public static let totalStepsKey = "obclip.total_steps"
    public static let accountingKey = "obclip.accounting"

    /// Serialises `response` into a safetensors body.
    public static func encode(_ response: GenerationResponse) throws -> Data {
        let c = response.continuation
        let accounting = try JSONEncoder.sorted.encode(response.accounting)
        var writer = SafeTensorsWriter(metadata: [
            versionKey: String(response.version),
            schedulerKey: c.scheduler,
            completedStepsKey: String(c.completedSteps),
            totalStepsKey: String(c.totalSteps),
            accountingKey: String(decoding: accounting, as: UTF8.self),
        ])
        try writer.add(latentsKey, shape: response.latents.shape, scalars: response.latents.scalars)
        for (name, tensor) in c.perCandidate {
            try writer.add(perCandidatePrefix + name, shape: tensor.shape, scalars: tensor.scalars)
        }
        try writer.add(schedulerStateKey, shape: [c.schedulerState.count], scalars: c.schedulerState.map(Float.init))
        try writer.add(generatorStateKey, shape: [c.generatorState.count], scalars: c.generatorState.map(Float.init))
        return writer.serialized()
    }

    /// Parses a safetensors body. Checks structure only (every part present and well-formed);
    /// `GenerationResponse.validate(for:)` checks it against the request.
    public static func decode(_ body: Data) throws -> GenerationResponse {
        let reader: SafeTensorsReader
        do {
            reader = try SafeTensorsReader(bytes: body, source: "response body")
        } catch {
            throw ResponseError(field: "body", "not a valid safetensors container: \(error)")
        }
        func metadata(_ key: String) throws -> String {
            guard let value = reader.metadata[key] else { throw ResponseError(field: key, "missing from __metadata__") }
            return value
        }
        func integer(_ key: String) throws -> Int {
            guard let value = Int(try metadata(key)) else { throw ResponseError(field: key, "not an integer: '\(try metadata(key))'") }
            return value
        }
        func tensor(_ name: String) throws -> WireTensor {
            guard let entry = reader.entries[name] else { throw ResponseError(field: name, "tensor missing") }
            guard entry.dtype == .f32 else { throw ResponseError(field: name, "dtype \(entry.dtype.rawValue), expected F32") }
            return WireTensor(shape: entry.shape, scalars: try reader.floats(name))
        }
        func bytes(_ name: String) throws -> [UInt8] {
            let t = try tensor(name)
            guard t.shape.count == 1 else { throw ResponseError(field: name, "byte state must be rank 1, got shape \(t.shape)") }
            return try t.scalars.map { v in
                guard v >= 0, v <= 255, v == v.rounded() else { throw ResponseError(field: name, "element \(v) is not a byte value") }
                return UInt8(v)
            }
        }

        for name in reader.entries.keys where name != latentsKey && name != schedulerStateKey && name != generatorStateKey
            && !name.hasPrefix(perCandidatePrefix) {
            throw ResponseError(field: name, "unexpected tensor (not part of protocol version 1)")
        }
        let version = try integer(versionKey)
        let accounting: ServerAccounting
        do {
            accounting = try JSONDecoder().decode(ServerAccounting.self, from: Data(try metadata(accountingKey).utf8))
        } catch let e as ResponseError {
            throw e
        } catch {
            throw ResponseError(field: accountingKey, "malformed accounting JSON: \(error)")
        }
        var perCandidate: [String: WireTensor] = [:]
        for name in reader.entries.keys where name.hasPrefix(perCandidatePrefix) {
            perCandidate[String(name.dropFirst(perCandidatePrefix.count))] = try tensor(name)
        }
        let continuation = ContinuationState(
            scheduler: try metadata(schedulerKey), completedSteps: try integer(completedStepsKey),
            totalSteps: try integer(totalStepsKey), perCandidate: perCandidate,
            schedulerState: try bytes(schedulerStateKey), generatorState: try bytes(generatorStateKey))
        return GenerationResponse(latents: try tensor(latentsKey), continuation: continuation,
                                  accounting: accounting, version: version)
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so equal values always encode to equal bytes.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
