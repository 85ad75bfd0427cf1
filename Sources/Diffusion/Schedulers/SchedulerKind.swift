/// The sampling algorithms obclip implements, with the names used on the command line and in
/// the wire protocol.
public enum SchedulerKind: String, CaseIterable, Sendable {
    case ddim
    case pndm
    case euler
    case eulerAncestral = "euler-a"
    case dpmSolverPlusPlus2M = "dpm++2m"
    case lcm

    /// The method's default sampler (ObCLIP runs DPM-Solver++ 2M).
    public static let `default` = SchedulerKind.dpmSolverPlusPlus2M
    /// The method's default number of denoising steps.
    public static let defaultSteps = 25

    /// Parses a command-line name (`ddim`, `pndm`, `euler`, `euler-a`, `dpm++2m`, `lcm`), also
    /// accepting diffusers' class names; throws listing the valid names otherwise.
    public init(name: String) throws {
        let key = name.lowercased()
        if let kind = SchedulerKind(rawValue: key) {
            self = kind
        } else if let kind = SchedulerKind.allCases.first(where: { $0.diffusersClassName.lowercased() == key }) {
            self = kind
        } else {
            throw SchedulerError.unknownScheduler(name)
        }
    }

    /// The diffusers class implementing the same algorithm (`_class_name` in `scheduler_config.json`).
    public var diffusersClassName: String {
        switch self {
        case .ddim: "DDIMScheduler"
        case .pndm: "PNDMScheduler"
        case .euler: "EulerDiscreteScheduler"
        case .eulerAncestral: "EulerAncestralDiscreteScheduler"
        case .dpmSolverPlusPlus2M: "DPMSolverMultistepScheduler"
        case .lcm: "LCMScheduler"
        }
    }
}
