import Foundation

/// One thing a private generation reports while it runs: a line on the terminal for
/// `obclip generate`, a step of the progress bar for `obclip ui`.
public enum GenerationEvent: Sendable, Equatable, CustomStringConvertible {
    /// The prompt became `candidates` prompts; the server can see which attribute types they vary.
    case obfuscated(candidates: Int, attributeTypesRevealed: [String])
    /// The request is on its way: the server runs model calls `0..<serverSteps` of `totalSteps` on
    /// `candidates` prompts and answers once, so its steps are known only when it does.
    case waitingForServer(serverSteps: Int, totalSteps: Int, candidates: Int)
    /// A line about the exchange with the server (an attempt, a retry and its wait).
    case exchange(String)
    /// The server's validated answer; `queueSeconds` is what the server says the request waited;
    /// `kept` is how many latents the device keeps (0 when the DP subset left the real one out).
    case serverAnswered(seconds: Double, responseBytes: Int, candidates: Int, serverSteps: Int, queueSeconds: Double?, kept: Int)
    /// The device finished model call `completed` of the trajectory's `total` (server calls included).
    case deviceStep(completed: Int, total: Int)
    /// The device is decoding the final latent with the VAE.
    case decoding

    public var description: String {
        switch self {
        case let .obfuscated(candidates, types):
            "privacy: \(candidates) candidates; attribute types visible to the server: \(types.joined(separator: ", "))"
        case let .waitingForServer(serverSteps, totalSteps, candidates):
            "waiting for the server: \(serverSteps) of \(totalSteps) steps on \(candidates) candidates"
        case let .exchange(line): line
        case let .serverAnswered(seconds, bytes, candidates, _, _, kept):
            String(format: "server answered in %.2f s (%d bytes); kept %d of %d latents%@", seconds, bytes, kept, candidates,
                   kept == 0 ? " (the real candidate was not drawn: the device generates alone)" : "")
        case let .deviceStep(completed, total): "device step \(completed)/\(total)"
        case .decoding: "decoding with the VAE"
        }
    }
}
