@_exported import SharedSettings
import Foundation

/// What the device sends the cloud: every candidate prompt of an oblivious set and the shared
/// generation settings. It deliberately has no field that could carry which candidate is real.
///
/// The trajectory's settings are one `TrajectorySettings` value (read and written through this
/// type as if they were its own fields: `request.steps`); on the wire they are flat members of
/// the request object, as `api/openapi.yaml` lists them.
@dynamicMemberLookup
public struct GenerationRequest: Codable, Sendable, Equatable {
    /// The protocol version this build speaks.
    public static let currentVersion = 1

    public var version: Int
    /// The candidate prompts, in the privacy engine's canonical order.
    public var candidates: [String]
    /// Seed of the shared initial noise (`torch.randn` compatible).
    public var seed: UInt64
    /// Switch point k: the server runs model calls `0..<k` and returns the state after them.
    public var switchStep: Int
    /// T, scheduler, guidance, negative prompt, size and accelerations.
    public var trajectory: TrajectorySettings
    /// The model family the device runs (`sd1`, `sdxl`); the server rejects a request for a
    /// family it does not serve. Absent (older clients): `sd1`.
    public var modelFamily: String?
    /// SDXL micro-conditioning, each `[height, width]` / `[top, left]` in pixels; absent: the
    /// pipeline's defaults (original = target = the image size, crop `[0, 0]`). Ignored for SD1.x.
    public var originalSize: [Int]?
    public var cropTopLeft: [Int]?
    public var targetSize: [Int]?

    public init(candidates: [String], seed: UInt64, switchStep: Int = 10, trajectory: TrajectorySettings = TrajectorySettings(),
                modelFamily: String? = nil, originalSize: [Int]? = nil, cropTopLeft: [Int]? = nil, targetSize: [Int]? = nil,
                version: Int = GenerationRequest.currentVersion) {
        self.version = version
        self.candidates = candidates
        self.seed = seed
        self.switchStep = switchStep
        self.trajectory = trajectory
        self.modelFamily = modelFamily
        self.originalSize = originalSize
        self.cropTopLeft = cropTopLeft
        self.targetSize = targetSize
    }

    /// The same request spelled out setting by setting (tests and tools that write one by hand).
    public init(candidates: [String], seed: UInt64, steps: Int = 25, switchStep: Int = 10,
                scheduler: String = "dpm++2m", guidanceScale: Float = 7.5, negativePrompt: String = "",
                width: Int = 512, height: Int = 512, acceleration: AccelerationOptions = .off,
                modelFamily: String? = nil, originalSize: [Int]? = nil, cropTopLeft: [Int]? = nil, targetSize: [Int]? = nil,
                version: Int = GenerationRequest.currentVersion) {
        self.init(candidates: candidates, seed: seed, switchStep: switchStep,
                  trajectory: TrajectorySettings(steps: steps, scheduler: scheduler, guidanceScale: guidanceScale,
                                                 negativePrompt: negativePrompt, width: width, height: height, acceleration: acceleration),
                  modelFamily: modelFamily, originalSize: originalSize, cropTopLeft: cropTopLeft, targetSize: targetSize, version: version)
    }

    /// The trajectory's settings as members of the request.
    public subscript<T>(dynamicMember keyPath: WritableKeyPath<TrajectorySettings, T>) -> T {
        get { trajectory[keyPath: keyPath] }
        set { trajectory[keyPath: keyPath] = newValue }
    }

    /// The settings that must match for two requests to share one batched forward pass.
    public var batchKey: String {
        let micro = [originalSize, cropTopLeft, targetSize].map { $0.map { "\($0)" } ?? "-" }.joined(separator: ",")
        return "\(seed)|\(switchStep)|\(trajectory)|\(modelFamily ?? "sd1")|\(micro)"
    }

    private enum CodingKeys: String, CodingKey {
        case version, candidates, seed, switchStep, modelFamily, originalSize, cropTopLeft, targetSize
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        candidates = try c.decode([String].self, forKey: .candidates)
        seed = try c.decode(UInt64.self, forKey: .seed)
        trajectory = try TrajectorySettings(from: decoder)
        switchStep = try c.decode(Int.self, forKey: .switchStep)
        modelFamily = try c.decodeIfPresent(String.self, forKey: .modelFamily)
        originalSize = try c.decodeIfPresent([Int].self, forKey: .originalSize)
        cropTopLeft = try c.decodeIfPresent([Int].self, forKey: .cropTopLeft)
        targetSize = try c.decodeIfPresent([Int].self, forKey: .targetSize)
    }

    public func encode(to encoder: Encoder) throws {
        try trajectory.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(candidates, forKey: .candidates)
        try c.encode(seed, forKey: .seed)
        try c.encode(switchStep, forKey: .switchStep)
        try c.encodeIfPresent(modelFamily, forKey: .modelFamily)
        try c.encodeIfPresent(originalSize, forKey: .originalSize)
        try c.encodeIfPresent(cropTopLeft, forKey: .cropTopLeft)
        try c.encodeIfPresent(targetSize, forKey: .targetSize)
    }
}
