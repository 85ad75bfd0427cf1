import DeviceClient
import Diffusion
import Foundation
import Privacy
import TensorCore
import WireProtocol

/// The page's settings form as it posts it: plain JSON values, one per control, named like the
/// controls so an error can point at the one to fix.
public struct UISettings: Codable, Sendable, Equatable {
    public var server: String
    public var token: String
    public var mode: String
    public var steps: Int
    public var switchStep: Int
    public var scheduler: String
    public var guidance: Float
    public var negativePrompt: String
    /// Empty for a fresh seed from the system CSPRNG; else decimal digits. A string because
    /// JavaScript numbers lose bits past 2^53.
    public var seed: String
    public var width: Int
    public var height: Int
    /// Any of reuse, cache, skip.
    public var accelerations: [String]
    /// The device model's arithmetic: fp32, f16 or bf16.
    public var precision: String
    /// A bundled taxonomy: default or extended.
    public var taxonomy: String
    /// The DP subset mode: send `dpSubsetSize` of the N candidates chosen with budget `dpEpsilon`.
    public var dpSubset: Bool
    public var dpEpsilon: Double
    public var dpSubsetSize: Int

    public init(server: String, token: String, mode: String, steps: Int, switchStep: Int, scheduler: String, guidance: Float,
                negativePrompt: String, seed: String, width: Int, height: Int, accelerations: [String], precision: String,
                taxonomy: String, dpSubset: Bool, dpEpsilon: Double, dpSubsetSize: Int) {
        self.server = server
        self.token = token
        self.mode = mode
        self.steps = steps
        self.switchStep = switchStep
        self.scheduler = scheduler
        self.guidance = guidance
        self.negativePrompt = negativePrompt
        self.seed = seed
        self.width = width
        self.height = height
        self.accelerations = accelerations
        self.precision = precision
        self.taxonomy = taxonomy
        self.dpSubset = dpSubset
        self.dpEpsilon = dpEpsilon
        self.dpSubsetSize = dpSubsetSize
    }
}

/// Settings that passed every check: what a generation or an analysis runs with.
struct CheckedSettings: Sendable {
    var mode: GenerationMode
    var generation: GenerationSettings
    /// Nil: draw a fresh seed when the generation starts.
    var seed: UInt64?
    var cloud: CloudClient?
    var taxonomy: String
    var precision: Precision
    var subset: SubsetMechanism?
}

extension UISettings {
    /// Checks every field the way `obclip generate` and the server would: mode, server URL and
    /// accelerations through `GenerationChoices`, the generation settings through the protocol's
    /// own request validation (the server's limits), then the UI's own fields.
    func checked(tokenCount: (String) -> Int) throws -> CheckedSettings {
        let mode = try GenerationChoices.mode(named: mode)
        let cloud = try GenerationChoices.cloudClient(server: server.trimmingCharacters(in: .whitespaces), token: token, mode: mode)
        let enabled = try GenerationChoices.accelerations(accelerations.joined(separator: ","))
        let acceleration = GenerationChoices.accelerationOptions(enabling: enabled, switchStep: switchStep)
        let generation = GenerationSettings(steps: steps, switchStep: switchStep, scheduler: scheduler, guidanceScale: guidance,
                                            negativePrompt: negativePrompt, width: width, height: height, acceleration: acceleration)
        // The server's own checks, on a stand-in candidate: the prompt's candidates are checked
        // when the set is built.
        let probe = GenerationRequest(candidates: ["a photo"], seed: 0, steps: steps, switchStep: switchStep, scheduler: scheduler,
                                      guidanceScale: guidance, negativePrompt: negativePrompt, width: width, height: height,
                                      acceleration: acceleration)
        try Self.check(probe, tokenCount: tokenCount)
        var seed: UInt64?
        let digits = self.seed.trimmingCharacters(in: .whitespaces)
        if !digits.isEmpty {
            guard let value = UInt64(digits), value < 1 << 63 else {
                throw ChoiceError(field: "seed", "the seed must be a whole number in 0...\((UInt64(1) << 63) - 1), or empty for a fresh one")
            }
            seed = value
        }
        guard let precision = Precision(rawValue: precision) else {
            throw ChoiceError(field: "precision", "unknown precision '\(precision)'; one of \(Precision.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard Taxonomy.bundledNames.contains(taxonomy) else {
            throw ChoiceError(field: "taxonomy", "unknown taxonomy '\(taxonomy)'; one of \(Taxonomy.bundledNames.joined(separator: ", "))")
        }
        var subset: SubsetMechanism?
        if dpSubset {
            do { subset = try SubsetMechanism(epsilon: dpEpsilon, subsetSize: dpSubsetSize) } catch let error as PrivacyError {
                throw ChoiceError(field: "dpEpsilon", error.description)
            }
        }
        return CheckedSettings(mode: mode, generation: generation, seed: seed, cloud: cloud, taxonomy: taxonomy,
                               precision: precision, subset: subset)
    }

    /// Checks the request a generation will send as the server will check it (with the server's
    /// default limits), naming the form control to fix.
    static func check(_ request: GenerationRequest, tokenCount: (String) -> Int) throws {
        do {
            try request.validate(against: ServerLimits(), knownSchedulers: Set(SchedulerKind.allCases.map(\.rawValue)), countTokens: tokenCount)
        } catch let error as RequestError {
            let message = switch error.field {
            case "candidates": "the candidate set is more than the server takes: \(error.message)"
            case let field where field.hasPrefix("candidates["): "candidate \(field.dropFirst("candidates[".count).dropLast()) is too long for the server: \(error.message)"
            default: error.message
            }
            throw ChoiceError(field: formField(error.field), message)
        }
    }

    /// The form control a protocol field is set with.
    static func formField(_ field: String) -> String {
        switch field {
        case "guidanceScale": "guidance"
        case let name where name.hasPrefix("acceleration"): "accelerations"
        case let name where name.hasPrefix("candidates"): "prompt"
        default: field
        }
    }
}
