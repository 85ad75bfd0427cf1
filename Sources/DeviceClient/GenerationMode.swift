import Diffusion
import Privacy
import WireProtocol

/// Who runs which steps, for the evaluation modes of the paper (all produce comparable reports).
public enum GenerationMode: String, CaseIterable, Sendable, Codable {
    /// ObCLIP: the server runs k steps on all N candidates, the device finishes its own.
    case obclip
    /// Hybrid SD, no privacy: only the real prompt goes to the server for k steps.
    case hybrid
    /// Vanilla oblivious generation: the server runs all T steps on all N candidates.
    case vanillaOblivious = "vanilla-oblivious"
    /// The server runs all T steps on the real prompt.
    case serverOnly = "server-only"
    /// No server: the device runs all T steps with its small model.
    case deviceOnly = "device-only"

    /// Whether this mode hides the real prompt among candidates.
    public var isPrivate: Bool { self == .obclip || self == .vanillaOblivious }
}

/// The device's own sampler after a server that ran a different one (LCM-SDXL on the server,
/// the paper's 25-step DPM-Solver on the device): the device starts at the step `firstStep`
/// picks and runs to the end of its own schedule.
public struct DeviceSampler: Sendable, Equatable, Codable, CustomStringConvertible {
    public var scheduler: String
    public var steps: Int
    /// The device's classifier-free guidance scale (the server's LCM takes its own as a w-embedding).
    public var guidanceScale: Float
    public var firstStep: HandOffTimestep

    public init(scheduler: String = "dpm++2m", steps: Int = 25, guidanceScale: Float = 7.5, firstStep: HandOffTimestep = .equalNoise) {
        self.scheduler = scheduler
        self.steps = steps
        self.guidanceScale = guidanceScale
        self.firstStep = firstStep
    }

    public var description: String { "; device: \(scheduler) \(steps) steps, guidance \(guidanceScale), first step \(firstStep)" }
}

/// The generation settings a user picks, independent of the prompt: the trajectory's settings,
/// which go on the wire as they are (`request.trajectory`), the switch point, and what only
/// the device reads. The trajectory's settings read as members (`settings.steps`); the JSON is
/// flat, one object with every setting.
@dynamicMemberLookup
public struct GenerationSettings: Sendable, Equatable, Codable {
    /// T, scheduler, guidance, negative prompt, size and the server's accelerations.
    public var trajectory: TrajectorySettings
    /// k: the model calls the server runs in the hybrid modes.
    public var switchStep: Int
    /// SDXL micro-conditioning (nil: the pipeline's defaults for the image size).
    public var microConditioning: MicroConditioning?
    /// The device's own sampler when it differs from the server's (nil: the device continues the
    /// server's scheduler exactly).
    public var deviceSampler: DeviceSampler?

    public init(trajectory: TrajectorySettings, switchStep: Int = 10, microConditioning: MicroConditioning? = nil,
                deviceSampler: DeviceSampler? = nil) {
        self.trajectory = trajectory
        self.switchStep = switchStep
        self.microConditioning = microConditioning
        self.deviceSampler = deviceSampler
    }

    public init(steps: Int = 25, switchStep: Int = 10, scheduler: String = "dpm++2m", guidanceScale: Float = 7.5,
                negativePrompt: String = "", width: Int = 512, height: Int = 512, acceleration: AccelerationOptions = .off,
                microConditioning: MicroConditioning? = nil, deviceSampler: DeviceSampler? = nil) {
        self.init(trajectory: TrajectorySettings(steps: steps, scheduler: scheduler, guidanceScale: guidanceScale, negativePrompt: negativePrompt,
                                                 width: width, height: height, acceleration: acceleration),
                  switchStep: switchStep, microConditioning: microConditioning, deviceSampler: deviceSampler)
    }

    /// The trajectory's settings as members of the settings.
    public subscript<T>(dynamicMember keyPath: WritableKeyPath<TrajectorySettings, T>) -> T {
        get { trajectory[keyPath: keyPath] }
        set { trajectory[keyPath: keyPath] = newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case switchStep, microConditioning, deviceSampler
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        trajectory = try TrajectorySettings(from: decoder)
        switchStep = try c.decode(Int.self, forKey: .switchStep)
        microConditioning = try c.decodeIfPresent(MicroConditioning.self, forKey: .microConditioning)
        deviceSampler = try c.decodeIfPresent(DeviceSampler.self, forKey: .deviceSampler)
    }

    public func encode(to encoder: Encoder) throws {
        try trajectory.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(switchStep, forKey: .switchStep)
        try c.encodeIfPresent(microConditioning, forKey: .microConditioning)
        try c.encodeIfPresent(deviceSampler, forKey: .deviceSampler)
    }

    /// The micro-conditioning in effect.
    public var effectiveMicroConditioning: MicroConditioning { microConditioning ?? .defaults(height: trajectory.height, width: trajectory.width) }

    /// A fresh seed from the operating system's CSPRNG: a seed derived from the prompt or a
    /// seeded PRNG would be a fingerprint across requests.
    public static func freshSeed() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        // torch.manual_seed takes seeds below 2^63 on every platform.
        return generator.next() >> 1
    }
}

extension GenerationMode {
    /// The request this mode sends for `candidateSet`, or nil when the mode uses no server.
    ///
    /// For the private modes the request is a function of the public template, seed and
    /// settings only: the candidates in canonical order and nothing derived from the real index.
    public func cloudRequest(for candidateSet: CandidateSet, seed: UInt64, settings s: GenerationSettings,
                             family: ModelFamily = .sd1) -> GenerationRequest? {
        let candidates: [String]
        let serverSteps: Int
        switch self {
        case .obclip: (candidates, serverSteps) = (candidateSet.candidates, s.switchStep)
        case .hybrid: (candidates, serverSteps) = ([candidateSet.prompt], s.switchStep)
        case .vanillaOblivious: (candidates, serverSteps) = (candidateSet.candidates, s.steps)
        case .serverOnly: (candidates, serverSteps) = ([candidateSet.prompt], s.steps)
        case .deviceOnly: return nil
        }
        let micro = family == .sdxl ? s.microConditioning : nil
        return GenerationRequest(candidates: candidates, seed: seed, switchStep: serverSteps, trajectory: s.trajectory,
                                 modelFamily: family == .sd1 ? nil : family.rawValue,
                                 originalSize: micro.map { [$0.originalHeight, $0.originalWidth] },
                                 cropTopLeft: micro.map { [$0.cropTop, $0.cropLeft] },
                                 targetSize: micro.map { [$0.targetHeight, $0.targetWidth] })
    }

    /// Which row of the response is the device's: the real candidate for the private modes,
    /// the only row otherwise.
    public func keptRow(of candidateSet: CandidateSet) -> Int {
        isPrivate ? candidateSet.realIndex : 0
    }

    /// The text the device conditions on: the same text the server ran for the kept row — the
    /// engine's rendering of the real values in the private modes (attribute words normalised,
    /// see `PrivacyReport.normalisedWords`), the prompt as typed otherwise.
    public func devicePrompt(of candidateSet: CandidateSet) -> String {
        isPrivate ? candidateSet.realCandidate : candidateSet.prompt
    }
}
