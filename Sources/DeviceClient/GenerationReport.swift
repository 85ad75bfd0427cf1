import Foundation
import Privacy
import WireProtocol

/// What one generation did, written next to the image as JSON. Stays on the device: it holds
/// the privacy summary, which names the real values.
public struct GenerationReport: Codable, Sendable {
    public struct Wire: Codable, Sendable {
        /// Bytes of one request body and of the response body.
        public var requestBytes: Int
        public var responseBytes: Int
        /// Totals over all attempts (retries resend the whole set).
        public var bytesSent: Int
        public var bytesReceived: Int
        public var attempts: Int
        /// Wall-clock seconds from sending to a validated response.
        public var roundTripSeconds: Double
    }

    public struct Device: Codable, Sendable {
        /// Seconds by phase: `obfuscation`, `denoising`, `decoding`.
        public var phaseSeconds: [String: Double]
        public var executedMultiplyAdds: Int64
        public var executedFLOPs: Double { 2 * Double(executedMultiplyAdds) }
        /// Model calls the device ran.
        public var modelCalls: Int
    }

    public var mode: GenerationMode
    public var settings: GenerationSettings
    public var seed: UInt64
    /// Candidates sent to the server (0 for device-only).
    public var candidatesSent: Int
    /// Model calls the server ran per candidate.
    public var serverModelCalls: Int
    public var privacy: PrivacyReport?
    /// The DP subset mode's draw, when it was on (client-local: says whether the real one was sent).
    public var dpSubset: SubsetSelection?
    public var server: ServerAccounting?
    public var wire: Wire?
    public var device: Device
    public var totalSeconds: Double
    /// Server plus device FLOPs.
    public var totalFLOPs: Double { (server?.executedFLOPs ?? 0) + device.executedFLOPs }
}
