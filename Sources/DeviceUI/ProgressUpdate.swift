import DeviceClient
import Foundation

/// One update of the page's progress bar, sent as a server-sent event.
struct ProgressUpdate: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        /// Waiting for earlier generations on this device.
        case queued
        /// Loading models, building the candidate set.
        case preparing
        /// The request is at the server (its steps are known only when it answers).
        case server
        /// A device step finished.
        case device
        case decoding
        /// Terminal states.
        case done, failed, cancelled
    }

    var kind: Kind
    /// The line to show under the bar.
    var label: String
    /// How much of the whole generation is done, 0...1; nil while the server works (unknown).
    var fraction: Double?
    /// Model calls done and in all (the trajectory's, server calls included), when known.
    var completed: Int?
    var total: Int?
    /// While the server works: the share of the bar its steps fill when it answers.
    var serverShare: Double?
    /// Seconds since the generation was submitted.
    var elapsed: Double

    var isTerminal: Bool { kind == .done || kind == .failed || kind == .cancelled }

    /// The bar's reading of a generator event for a trajectory of `totalSteps` model calls:
    /// calls count evenly, server and device alike, and decoding is the last 5%.
    static func reading(_ event: GenerationEvent, totalSteps: Int, elapsed: Double) -> ProgressUpdate {
        let span = 0.95
        switch event {
        case let .obfuscated(candidates, types):
            let shown = types.isEmpty ? "no sensitive attribute found" : "the server sees that the prompt mentions \(types.joined(separator: ", "))"
            return ProgressUpdate(kind: .preparing, label: "\(candidates) candidate\(candidates == 1 ? "" : "s"); \(shown)",
                                  fraction: 0, elapsed: elapsed)
        case let .waitingForServer(serverSteps, totalSteps, candidates):
            return ProgressUpdate(kind: .server, label: "waiting for the server: \(serverSteps) of \(totalSteps) steps on \(candidates) candidate\(candidates == 1 ? "" : "s")",
                                  fraction: nil, completed: 0, total: totalSteps,
                                  serverShare: span * Double(serverSteps) / Double(max(totalSteps, 1)), elapsed: elapsed)
        case let .exchange(line):
            return ProgressUpdate(kind: .server, label: line, fraction: nil, elapsed: elapsed)
        case let .serverAnswered(seconds, bytes, candidates, serverSteps, queueSeconds, kept):
            let queue = queueSeconds.map { String(format: ", %.2f s of it in the server's queue", $0) } ?? ""
            let keptText = kept == 0 ? "dropped all \(candidates) latents (yours was not drawn)" : "kept 1 of \(candidates) latents"
            return ProgressUpdate(kind: .server,
                                  label: String(format: "server ran %d steps in %.2f s%@; %d bytes back, %@", serverSteps, seconds, queue, bytes, keptText),
                                  // With nothing kept the device starts from fresh noise: its steps fill the whole bar.
                                  fraction: kept == 0 ? 0 : span * Double(serverSteps) / Double(max(totalSteps, 1)), completed: serverSteps,
                                  total: totalSteps, elapsed: elapsed)
        case let .deviceStep(completed, total):
            return ProgressUpdate(kind: .device, label: "device step \(completed) of \(total)", fraction: span * Double(completed) / Double(total),
                                  completed: completed, total: total, elapsed: elapsed)
        case .decoding:
            return ProgressUpdate(kind: .decoding, label: "decoding the image with the VAE", fraction: span, elapsed: elapsed)
        }
    }
}
