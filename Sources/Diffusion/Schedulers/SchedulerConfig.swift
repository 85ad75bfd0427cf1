import Foundation

/// The contents of a diffusers `scheduler/scheduler_config.json`, kept as raw key/values.
///
/// Like diffusers' `from_config`, a config written for one scheduler class can build any other:
/// each scheduler reads the keys it knows and takes its own class default for the rest (so
/// SD1.5's PNDM config carries `beta_*`, `steps_offset`, `set_alpha_to_one`, … into DDIM, Euler,
/// DPM-Solver++ and LCM, while e.g. Euler keeps its own `timestep_spacing: linspace` default).
public struct SchedulerConfig: Sendable {
    /// Where the config came from, for error messages.
    public let source: String
    private let values: [String: ConfigValue]

    private enum ConfigValue: Sendable {
        case number(Double), bool(Bool), string(String), numbers([Double])
    }

    /// One JSON value; `nil` for null (diffusers treats it as "use the default") and for nested
    /// structures, which are not scheduler parameters.
    private struct DecodedValue: Decodable {
        let value: ConfigValue?

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { value = nil }
            else if let v = try? container.decode(Bool.self) { value = .bool(v) }
            else if let v = try? container.decode(Double.self) { value = .number(v) }
            else if let v = try? container.decode(String.self) { value = .string(v) }
            else if let v = try? container.decode([Double].self) { value = .numbers(v) }
            else { value = nil }
        }
    }

    /// An empty config: every scheduler takes its diffusers class defaults.
    public init() {
        source = "<defaults>"
        values = [:]
    }

    /// SD1.x's `scheduler_config.json` (PNDM, scaled-linear betas 0.00085…0.012, steps_offset 1).
    public static let stableDiffusion15: SchedulerConfig = {
        let json = #"""
        {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
         "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null}
        """#
        return try! SchedulerConfig(json: Data(json.utf8), source: "<built-in SD1.5 scheduler config>")
    }()

    /// SDXL 1.0's `scheduler_config.json` (stabilityai/stable-diffusion-xl-base-1.0): Euler with
    /// "leading" timestep spacing, steps_offset 1, SD's scaled-linear betas.
    public static let stableDiffusionXL: SchedulerConfig = {
        let json = #"""
        {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "beta_start": 0.00085, "clip_sample": false, "interpolation_type": "linear", "num_train_timesteps": 1000,
         "prediction_type": "epsilon", "sample_max_value": 1.0, "set_alpha_to_one": false, "skip_prk_steps": true,
         "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": null, "use_karras_sigmas": false}
        """#
        return try! SchedulerConfig(json: Data(json.utf8), source: "<built-in SDXL scheduler config>")
    }()

    /// Reads `scheduler_config.json` (or a model directory's `scheduler/scheduler_config.json`).
    public init(contentsOf url: URL) throws {
        var file = url
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = url.appendingPathComponent("scheduler/scheduler_config.json")
            if !FileManager.default.fileExists(atPath: file.path) {
                file = url.appendingPathComponent("scheduler_config.json")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw SchedulerError.unreadableConfig(file: file.path, reason: error.localizedDescription)
        }
        try self.init(json: data, source: file.path)
    }

    /// Parses config JSON; `source` names it in errors.
    public init(json: Data, source: String = "<scheduler config>") throws {
        self.source = source
        let decoded: [String: DecodedValue]
        do { decoded = try JSONDecoder().decode([String: DecodedValue].self, from: json) } catch {
            throw SchedulerError.unreadableConfig(file: source, reason: "not a JSON object (\(error))")
        }
        var values: [String: ConfigValue] = [:]
        for (key, raw) in decoded {
            if let value = raw.value { values[key] = value }
        }
        self.values = values
    }

    /// The `_class_name` entry, if it names a scheduler obclip implements.
    public var kind: SchedulerKind? {
        guard case .string(let name)? = values["_class_name"] else { return nil }
        return SchedulerKind.allCases.first { $0.diffusersClassName == name }
    }

    /// A copy with `key` set (used to override single options, like diffusers' `from_config(config, key=value)`).
    public func setting(_ key: String, to value: Any) -> SchedulerConfig {
        var values = self.values
        switch value {
        case let v as Bool: values[key] = .bool(v)
        case let v as Int: values[key] = .number(Double(v))
        case let v as Double: values[key] = .number(v)
        case let v as String: values[key] = .string(v)
        case let v as [Double]: values[key] = .numbers(v)
        default: preconditionFailure("unsupported config value type for \(key)")
        }
        return SchedulerConfig(source: source, values: values)
    }

    private init(source: String, values: [String: ConfigValue]) {
        self.source = source
        self.values = values
    }

    func double(_ key: String, default fallback: Double) throws -> Double {
        switch values[key] {
        case nil: return fallback
        case .number(let v)?: return v
        default: throw SchedulerError.invalidConfigValue(file: source, key: key, reason: "must be a number")
        }
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        let value = try double(key, default: Double(fallback))
        guard value == value.rounded(), abs(value) < 1e9 else {
            throw SchedulerError.invalidConfigValue(file: source, key: key, reason: "must be an integer, got \(value)")
        }
        return Int(value)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch values[key] {
        case nil: return fallback
        case .bool(let v)?: return v
        default: throw SchedulerError.invalidConfigValue(file: source, key: key, reason: "must be true or false")
        }
    }

    func string(_ key: String, default fallback: String) throws -> String {
        switch values[key] {
        case nil: return fallback
        case .string(let v)?: return v
        default: throw SchedulerError.invalidConfigValue(file: source, key: key, reason: "must be a string")
        }
    }

    func numbers(_ key: String) throws -> [Double]? {
        switch values[key] {
        case nil: return nil
        case .numbers(let v)?: return v
        default: throw SchedulerError.invalidConfigValue(file: source, key: key, reason: "must be a list of numbers")
        }
    }

    /// A string option restricted to `allowed` (the values obclip implements).
    func choice(_ key: String, default fallback: String, allowed: [String]) throws -> String {
        let value = try string(key, default: fallback)
        guard allowed.contains(value) else {
            throw SchedulerError.unsupportedOption(file: source, key: key, value: value)
        }
        return value
    }

    /// Throws when a boolean option obclip does not implement is switched on.
    func requireOff(_ keys: String...) throws {
        for key in keys where try bool(key, default: false) {
            throw SchedulerError.unsupportedOption(file: source, key: key, value: "true")
        }
    }
}
