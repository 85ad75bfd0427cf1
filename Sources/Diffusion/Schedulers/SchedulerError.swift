/// Why a scheduler could not be built, configured or resumed.
public enum SchedulerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A scheduler name that is none of `SchedulerKind`'s.
    case unknownScheduler(String)
    /// `scheduler_config.json` could not be read or parsed.
    case unreadableConfig(file: String, reason: String)
    /// A config key holds a value of the wrong type or out of range.
    case invalidConfigValue(file: String, key: String, reason: String)
    /// A valid diffusers option that obclip does not implement.
    case unsupportedOption(file: String, key: String, value: String)
    /// A step count the schedule cannot produce.
    case invalidStepCount(Int, reason: String)
    /// A continuation state that does not fit this scheduler.
    case invalidState(String)
    /// A hand-off from another sampler that cannot be continued as asked.
    case invalidHandOff(String)

    public var description: String {
        switch self {
        case .unknownScheduler(let name):
            "unknown scheduler '\(name)'; expected one of: "
                + SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")
        case .unreadableConfig(let file, let reason):
            "cannot read scheduler config \(file): \(reason)"
        case .invalidConfigValue(let file, let key, let reason):
            "scheduler config \(file): key '\(key)' \(reason)"
        case .unsupportedOption(let file, let key, let value):
            "scheduler config \(file): \(key) = \(value) is not supported by obclip"
        case .invalidStepCount(let steps, let reason):
            "invalid number of inference steps \(steps): \(reason)"
        case .invalidState(let reason):
            "invalid scheduler state: \(reason)"
        case .invalidHandOff(let reason):
            "invalid sampler hand-off: \(reason)"
        }
    }
}
