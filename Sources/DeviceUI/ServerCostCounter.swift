import Foundation
import WireProtocol

/// Counts the multiply-adds a server would execute for a request. `obclip ui` supplies one that
/// runs the cloud server's own backend under a count-only FLOP meter: the accounting
/// `obclip bench flops` uses, so the page's estimate is what the server would report.
public protocol ServerCostCounting: Sendable {
    /// The server architecture the counts run on, for the page ("demo server models", "random:sd15").
    var model: String { get }
    func multiplyAdds(for request: GenerationRequest) async throws -> Int64
}

/// Remembers counts per request (the page asks again on every keystroke pause) and runs one
/// count at a time, so typing never queues several passes over the server model.
actor ServerCostCounter {
    nonisolated let model: String
    private let counting: any ServerCostCounting
    private var counted: [Data: Int64] = [:]
    private var running: Task<Void, Never>?

    init(_ counting: any ServerCostCounting) {
        self.counting = counting
        model = counting.model
    }

    /// The request's cost and the same request's cost with every acceleration off.
    func cost(of request: GenerationRequest) async -> PrivacyAnalysis.ServerCost {
        var plain = request
        plain.acceleration = .off
        do {
            let accelerated = try await count(request)
            let unaccelerated = request.acceleration == .off ? accelerated : try await count(plain)
            return PrivacyAnalysis.ServerCost(multiplyAdds: accelerated, flops: 2 * Double(accelerated),
                                              flopsWithoutAccelerations: 2 * Double(unaccelerated), model: model)
        } catch {
            return PrivacyAnalysis.ServerCost(model: model, unavailable: "the count failed: \(error)")
        }
    }

    private func count(_ request: GenerationRequest) async throws -> Int64 {
        var keyed = request
        keyed.seed = 0  // the seed changes no count
        let key = try keyed.encodedJSON()
        if let known = counted[key] { return known }
        while let previous = running { await previous.value }
        if let known = counted[key] { return known }
        let counting = self.counting
        let work = Task { try await counting.multiplyAdds(for: keyed) }
        running = Task { _ = try? await work.value }
        defer { running = nil }
        let value = try await work.value
        counted[key] = value
        return value
    }
}
