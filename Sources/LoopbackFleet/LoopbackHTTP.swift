import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Plain GETs to the fleet's processes (health probes and metrics), on an ephemeral session
/// that keeps no connections between calls, so a killed process is noticed at once.
enum LoopbackHTTP {
    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 4
        configuration.timeoutIntervalForRequest = 5
        return URLSession(configuration: configuration)
    }()

    /// Status and body of `GET url`, or nil when nothing answers.
    static func get(_ url: URL) async -> (status: Int, body: String)? {
        var request = URLRequest(url: url)
        request.setValue("close", forHTTPHeaderField: "Connection")
        return await withCheckedContinuation { continuation in
            session.dataTask(with: request) { data, response, _ in
                guard let http = response as? HTTPURLResponse else { return continuation.resume(returning: nil) }
                continuation.resume(returning: (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self)))
            }.resume()
        }
    }

    /// Polls `url` until it answers 200, for at most `seconds`, while `process` runs.
    static func waitUntilOK(_ url: URL, process: ChildProcess, seconds: Double, what: String) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else { break }
            if let answer = await get(url), answer.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FleetError.notReady(what: what, seconds: seconds, log: process.log)
    }
}

/// Reads one sample from Prometheus text exposition (the format of `/metrics`).
public enum PrometheusText {
    /// The value of the sample named exactly `series` (name with its labels as rendered, e.g.
    /// `obclip_requests_total{outcome="ok"}`), or nil when absent.
    public static func value(of series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
