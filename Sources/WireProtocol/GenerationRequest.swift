import Foundation

/// What the device sends the cloud: every candidate prompt of an oblivious set and the shared
/// generation settings. It deliberately has no field that could carry which candidate is real.
public struct GenerationRequest: Codable, Sendable, Equatable {
    /// The protocol version this build speaks.
    public static let currentVersion = 1

    public var version: Int
    /// The candidate prompts, in the privacy engine's canonical order.
    public var candidates: [String]
    /// Seed of the shared initial noise (`torch.randn` compatible).
    public var seed: UInt64
    /// Total denoising steps T of the whole trajectory.
    public var steps: Int
    /// Switch point k: the server runs model calls `0..<k` and returns the state after them.
    public var switchStep: Int
    /// Scheduler name (`dpm++2m`, `ddim`, `pndm`, `euler`, `euler-a`, `lcm`).
    public var scheduler: String
    public var guidanceScale: Float
    public var negativePrompt: String
    public var width: Int
    public var height: Int
    public var acceleration: AccelerationOptions
    /// The model family the device runs (`sd1`, `sdxl`); the server rejects a request for a
    /// family it does not serve. Absent (older clients): `sd1`.
    public var modelFamily: String?
    /// SDXL micro-conditioning, each `[height, width]` / `[top, left]` in pixels; absent: the
    /// pipeline's defaults (original = target = the image size, crop `[0, 0]`). Ignored for SD1.x.
    public var originalSize: [Int]?
    public var cropTopLeft: [Int]?
    public var targetSize: [Int]?

    public init(candidates: [String], seed: UInt64, steps: Int = 25, switchStep: Int = 10,
                scheduler: String = "dpm++2m", guidanceScale: Float = 7.5, negativePrompt: String = "",
                width: Int = 512, height: Int = 512, acceleration: AccelerationOptions = .off,
                modelFamily: String? = nil, originalSize: [Int]? = nil, cropTopLeft: [Int]? = nil, targetSize: [Int]? = nil,
                version: Int = GenerationRequest.currentVersion) {
        self.version = version
        self.candidates = candidates
        self.seed = seed
        self.steps = steps
        self.switchStep = switchStep
        self.scheduler = scheduler
        self.guidanceScale = guidanceScale
        self.negativePrompt = negativePrompt
        self.width = width
        self.height = height
        self.acceleration = acceleration
        self.modelFamily = modelFamily
        self.originalSize = originalSize
        self.cropTopLeft = cropTopLeft
        self.targetSize = targetSize
    }

    /// The settings that must match for two requests to share one batched forward pass.
    public var batchKey: String {
        let micro = [originalSize, cropTopLeft, targetSize].map { $0.map { "\($0)" } ?? "-" }.joined(separator: ",")
        return "\(seed)|\(steps)|\(switchStep)|\(scheduler)|\(guidanceScale)|\(negativePrompt)|\(width)x\(height)|\(acceleration)|\(modelFamily ?? "sd1")|\(micro)"
    }
}

/// The server-side accelerations of the method (METHOD.md §4), per request.
public struct AccelerationOptions: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Batch reuse of the pivot candidate's attention maps for server steps `< cachePoint`.
    public var reuse: Bool
    /// Temporal attention cache from step `cachePoint` on.
    public var cache: Bool
    /// Block skip (reuse of encoder features) from step `skipPoint` on.
    public var skip: Bool
    /// r: first step of the attention cache; reuse applies before it.
    public var cachePoint: Int
    /// s: first step of block skipping.
    public var skipPoint: Int
    /// Steps between full recomputations of the caches.
    public var refreshInterval: Int

    public init(reuse: Bool, cache: Bool, skip: Bool, cachePoint: Int, skipPoint: Int, refreshInterval: Int = 5) {
        self.reuse = reuse
        self.cache = cache
        self.skip = skip
        self.cachePoint = cachePoint
        self.skipPoint = skipPoint
        self.refreshInterval = refreshInterval
    }

    /// Plain batched generation: the server's output equals an unaccelerated run bit for bit.
    public static let off = AccelerationOptions(reuse: false, cache: false, skip: false, cachePoint: 0, skipPoint: 0)

    /// The method's configurations for a switch point: (k, r, s) = (5, 3, 3) or (10, 4, 6),
    /// scaled proportionally for other k.
    public static func method(switchStep k: Int) -> AccelerationOptions {
        let (r, s): (Int, Int) = switch k {
        case 5: (3, 3)
        case 10: (4, 6)
        default: (max(1, Int((Double(k) * 0.4).rounded())), max(1, Int((Double(k) * 0.6).rounded())))
        }
        return AccelerationOptions(reuse: true, cache: true, skip: true, cachePoint: r, skipPoint: s)
    }

    public var description: String {
        "reuse=\(reuse),cache=\(cache),skip=\(skip),r=\(cachePoint),s=\(skipPoint),i=\(refreshInterval)"
    }
}
