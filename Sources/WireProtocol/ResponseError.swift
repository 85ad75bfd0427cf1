/// Why a server response was rejected by the client: the named part is missing, malformed, or
/// inconsistent with the request that was sent. A rejected response is never used.
public struct ResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The tensor, metadata key or property at fault (e.g. `latents`, `obclip.protocol_version`).
    public var field: String
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "invalid server response: \(field): \(message)" }
}
