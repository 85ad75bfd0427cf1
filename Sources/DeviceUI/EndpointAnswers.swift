import DeviceClient
import Foundation
import Hummingbird

// The JSON shapes the endpoints answer with, and the helpers that send them.

/// What the page needs to draw its form.
struct PageConfiguration: Encodable {
    var defaults: UISettings
    var local: Bool
    var demo: Bool
    var deviceModel: String
    var costModel: String?
    var modes: [String]
    var schedulers: [String]
    var accelerations: [String]
    var precisions: [String]
    var taxonomies: [String]
}

struct JobLinks: Encodable {
    var id: Int
    var events: String
    var cancel: String
    var image: String
    var report: String

    init(id: Int) {
        self.id = id
        events = "/api/generations/\(id)/events"
        cancel = "/api/generations/\(id)/cancel"
        image = "/api/generations/\(id)/image.png"
        report = "/api/generations/\(id)/report.json"
    }
}

struct CancelAnswer: Encodable {
    var id: Int
    var cancelled: Bool
    var state: String
}

/// One finished generation in the gallery: the image's links and the settings it was made with.
struct GalleryEntry: Encodable {
    var links: JobLinks
    var prompt: String
    var settings: UISettings
    var seed: UInt64
    var candidatesSent: Int
    var totalSeconds: Double

    init?(_ job: GenerationJob) {
        guard let result = job.finished else { return nil }
        links = JobLinks(id: job.id)
        prompt = job.prompt
        settings = job.settings
        seed = result.report.seed
        candidatesSent = result.report.candidatesSent
        totalSeconds = result.report.totalSeconds
    }
}

/// A JSON response.
func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, pretty: Bool = false) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    headers[.cacheControl] = "no-store"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}

/// Runs an endpoint, turning its problem into the error envelope.
func answer(_ body: () async throws -> Response) async -> Response {
    do {
        return try await body()
    } catch let problem as UIProblem {
        return problem.response
    } catch {
        return UIProblem(status: .internalServerError, field: "server", message: "\(error)").response
    }
}

func notFound(_ message: String) -> UIProblem { UIProblem(status: .notFound, field: "id", message: message) }
