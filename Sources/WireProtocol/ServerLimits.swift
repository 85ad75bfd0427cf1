/// Hard limits a server enforces on every request; each violation is reported by name so a
/// client can tell which limit it hit.
public struct ServerLimits: Codable, Sendable, Equatable {
    public var maxCandidates: Int
    public var maxSteps: Int
    public var maxSwitchStep: Int
    public var maxSide: Int
    public var maxPromptTokens: Int
    public var maxBodyBytes: Int

    public init(maxCandidates: Int = 32, maxSteps: Int = 100, maxSwitchStep: Int = 50, maxSide: Int = 768,
                maxPromptTokens: Int = 77, maxBodyBytes: Int = 256 * 1024) {
        self.maxCandidates = maxCandidates
        self.maxSteps = maxSteps
        self.maxSwitchStep = maxSwitchStep
        self.maxSide = maxSide
        self.maxPromptTokens = maxPromptTokens
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Why a request was refused. `limit` names the limit or field so errors are actionable.
public struct RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure; each maps to one HTTP status (see api/openapi.yaml).
    public enum Kind: String, Codable, Sendable {
        case invalid, limitExceeded, unsupportedVersion, unauthorized, overloaded, payloadTooLarge, notFound, cancelled, timeout, `internal`
    }
    public var kind: Kind
    public var field: String
    public var message: String

    public init(_ kind: Kind, field: String, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension GenerationRequest {
    /// Checks the request against the protocol's rules and `limits`. Token counts are checked
    /// by the server separately (it needs its tokenizer); `countTokens` supplies them here (it
    /// may stop counting once past `maxPromptTokens`, so the count in a refusal is a lower bound).
    public func validate(against limits: ServerLimits, knownSchedulers: Set<String>,
                         countTokens: (String) -> Int) throws {
        guard version == GenerationRequest.currentVersion else {
            throw RequestError(.unsupportedVersion, field: "version",
                               "this server speaks protocol version \(GenerationRequest.currentVersion), got \(version)")
        }
        guard !candidates.isEmpty else { throw RequestError(.invalid, field: "candidates", "at least one candidate is required") }
        guard candidates.count <= limits.maxCandidates else {
            throw RequestError(.limitExceeded, field: "candidates", "\(candidates.count) candidates exceed the limit of \(limits.maxCandidates)")
        }
        guard Set(candidates).count == candidates.count else {
            throw RequestError(.invalid, field: "candidates", "candidates must be distinct")
        }
        let t = trajectory
        guard t.steps >= 1 else { throw RequestError(.invalid, field: "steps", "must be at least 1") }
        guard t.steps <= limits.maxSteps else {
            throw RequestError(.limitExceeded, field: "steps", "\(t.steps) steps exceed the limit of \(limits.maxSteps)")
        }
        guard switchStep >= 1, switchStep <= t.steps else {
            throw RequestError(.invalid, field: "switchStep", "must be in 1...\(t.steps), got \(switchStep)")
        }
        guard switchStep <= limits.maxSwitchStep else {
            throw RequestError(.limitExceeded, field: "switchStep", "\(switchStep) server steps exceed the limit of \(limits.maxSwitchStep)")
        }
        guard knownSchedulers.contains(t.scheduler) else {
            throw RequestError(.invalid, field: "scheduler", "unknown scheduler '\(t.scheduler)'; known: \(knownSchedulers.sorted().joined(separator: ", "))")
        }
        guard t.guidanceScale.isFinite, t.guidanceScale >= 0, t.guidanceScale <= 50 else {
            throw RequestError(.invalid, field: "guidanceScale", "must be a finite number in 0...50")
        }
        for (name, side) in [("width", t.width), ("height", t.height)] {
            guard side >= 64, side % 64 == 0 else {
                throw RequestError(.invalid, field: name, "must be a positive multiple of 64, got \(side)")
            }
            guard side <= limits.maxSide else {
                throw RequestError(.limitExceeded, field: name, "\(side) exceeds the limit of \(limits.maxSide)")
            }
        }
        for (i, prompt) in (candidates + [t.negativePrompt]).enumerated() {
            let tokens = countTokens(prompt)
            guard tokens <= limits.maxPromptTokens else {
                let field = i < candidates.count ? "candidates[\(i)]" : "negativePrompt"
                throw RequestError(.limitExceeded, field: field, "\(tokens) or more tokens exceed the limit of \(limits.maxPromptTokens)")
            }
        }
        let a = t.acceleration
        if a.reuse || a.cache || a.skip {
            guard a.refreshInterval >= 1 else { throw RequestError(.invalid, field: "acceleration.refreshInterval", "must be at least 1") }
            guard (0...switchStep).contains(a.cachePoint) else {
                throw RequestError(.invalid, field: "acceleration.cachePoint", "r must be in 0...k (\(switchStep)), got \(a.cachePoint)")
            }
            guard (0...switchStep).contains(a.skipPoint) else {
                throw RequestError(.invalid, field: "acceleration.skipPoint", "s must be in 0...k (\(switchStep)), got \(a.skipPoint)")
            }
            guard !a.skip || a.skipPoint >= 1 else {
                throw RequestError(.invalid, field: "acceleration.skipPoint", "block skip needs one full step first (s ≥ 1)")
            }
            guard !a.cache || a.cachePoint >= 1 else {
                throw RequestError(.invalid, field: "acceleration.cachePoint", "the attention cache needs one full step first (r ≥ 1)")
            }
            guard !a.reuse || a.cachePoint >= 1 else {
                throw RequestError(.invalid, field: "acceleration.cachePoint", "batch reuse applies to steps before r, so it needs r ≥ 1")
            }
        }
    }
}
