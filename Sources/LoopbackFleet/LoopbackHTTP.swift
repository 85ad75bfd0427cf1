import DeviceClient
import Foundation

/// Plain HTTP exchanges with the fleet's processes (health probes, metrics, single attempts
/// whose status is the measurement), on the device's `HTTPExchange`: each exchange is on a
/// connection of its own, so concurrent calls are concurrent clients and a killed process is
/// noticed at once.
public enum LoopbackHTTP {
    /// Status and body of `GET url`, or nil when nothing answers.
    public static func get(_ url: URL) async -> (status: Int, body: String)? {
        guard let answer = try? await HTTPExchange.send(.GET, url, timeout: 5) else { return nil }
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    /// `POST url` with a JSON body and, if given, a bearer token.
    public static func post(_ url: URL, json body: Data, token: String?, timeout: Double = 600) async throws -> HTTPAnswer {
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try await HTTPExchange.send(.POST, url, body: body, headers: headers, timeout: timeout)
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
