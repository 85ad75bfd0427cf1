import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Plain HTTP exchanges for the harness's probes (`/metrics`, `/readyz`, single attempts whose
/// status is the measurement).
enum LoopbackHTTP {
    static func get(_ url: URL) async throws -> (Data, HTTPURLResponse) {
        try await exchange(URLRequest(url: url, timeoutInterval: 30))
    }

    static func post(_ url: URL, body: Data, token: String?, timeout: Double = 600) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return try await exchange(request)
    }

    /// One exchange on its own connection (an ephemeral session each): concurrent calls are
    /// concurrent clients, not queued behind a shared session's per-host connection limit.
    private static func exchange(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
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
}
