import Foundation
import Hummingbird

/// The body of `/api/analyze` and `/api/generations`.
struct PromptForm: Decodable, Sendable {
    var prompt: String
    var settings: UISettings

    /// Reads and checks a JSON body: content type, size, shape, then the prompt itself.
    static func read(_ request: Request) async throws -> PromptForm {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw UIProblem(status: .unsupportedMediaType, field: "content-type", message: "expected application/json, got \(type)")
        }
        guard request.headers[.contentType] != nil else {
            throw UIProblem(status: .unsupportedMediaType, field: "content-type", message: "expected application/json")
        }
        var bytes = Data()
        for try await chunk in request.body {
            bytes.append(contentsOf: chunk.readableBytesView)
            guard bytes.count <= DeviceUIService.maxBodyBytes else {
                throw UIProblem(status: .contentTooLarge, field: "body", message: "the body exceeds \(DeviceUIService.maxBodyBytes) bytes")
            }
        }
        let form: PromptForm
        do { form = try JSONDecoder().decode(PromptForm.self, from: bytes) } catch let error as DecodingError {
            throw UIProblem(decoding: error)
        }
        guard !form.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw UIProblem(field: "prompt", message: "type a prompt")
        }
        guard form.prompt.count <= DeviceUIService.maxPromptCharacters else {
            throw UIProblem(field: "prompt", message: "the prompt has \(form.prompt.count) characters; at most \(DeviceUIService.maxPromptCharacters)")
        }
        return form
    }
}
