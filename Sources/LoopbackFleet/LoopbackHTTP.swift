import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Plain HTTP exchanges with the fleet's processes (health probes, metrics, single attempts
/// whose status is the measurement). Each exchange is on a connection of its own (an ephemeral
/// session per call): concurrent calls are concurrent clients, not queued behind a shared
/// session's per-host connection limit, and a killed process is noticed at once.
public enum LoopbackHTTP {
    /// Status and body of `GET url`, or nil when nothing answers.
    public static func get(_ url: URL) async -> (status: Int, body: String)? {
        guard let (data, http) = try? await exchange(URLRequest(url: url, timeoutInterval: 5)) else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    /// `POST url` with a JSON body and, if given, a bearer token.
    public static func post(_ url: URL, json body: Data, token: String?, timeout: Double = 600) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return try await exchange(request)
    }

    /// One exchange on its own connection: the body and the response, or the transport error.
    public static func exchange(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        var request = request
        request.setValue("close", forHTTPHeaderField: "Connection")
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error { return continuation.resume(throwing: error) }
                guard let http = response as? HTTPURLResponse else { return continuation.resume(throwing: URLError(.badServerResponse)) }
                continuation.resume(returning: (data ?? Data(), http))
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
