/// How the one shared trajectory is run, as the device picks it and the server must run it:
/// total steps T, scheduler, guidance, negative prompt, image size and the server's
/// accelerations. The wire request and the device's `GenerationSettings` both carry this one
/// value (flattened into their JSON, so the wire format is the same as when each listed the
/// fields), so a new trajectory setting is added here once.
public struct TrajectorySettings: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Total denoising steps T of the whole trajectory.
    public var steps: Int
    /// Scheduler name (`dpm++2m`, `ddim`, `pndm`, `euler`, `euler-a`, `lcm`).
    public var scheduler: String
    /// Classifier-free guidance scale (used only when > 1; LCM's UNets take it as an embedding).
    public var guidanceScale: Float
    /// The unconditional text of classifier-free guidance (`""`: the model's default).
    public var negativePrompt: String
    /// Image size in pixels.
    public var width: Int
    public var height: Int
    /// What the server may accelerate of its share.
    public var acceleration: AccelerationOptions

    public init(steps: Int = 25, scheduler: String = "dpm++2m", guidanceScale: Float = 7.5, negativePrompt: String = "",
                width: Int = 512, height: Int = 512, acceleration: AccelerationOptions = .off) {
        self.steps = steps
        self.scheduler = scheduler
        self.guidanceScale = guidanceScale
        self.negativePrompt = negativePrompt
        self.width = width
        self.height = height
        self.acceleration = acceleration
    }

    /// Every setting, for keys that must tell two trajectories apart.
    public var description: String {
        "\(steps)|\(scheduler)|\(guidanceScale)|\(negativePrompt)|\(width)x\(height)|\(acceleration)"
    }
}
