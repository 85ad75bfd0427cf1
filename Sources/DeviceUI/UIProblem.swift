import Foundation
import Hummingbird

/// Input the UI refuses, named by the form control (or request part) it came from, so the page
/// can say what to fix and where. Sent as `{"error": {"field", "message"}}`.
struct UIProblem: Error, Sendable, Encodable {
    var status: HTTPResponse.Status = .badRequest
    var field: String
    var message: String

    private enum CodingKeys: String, CodingKey { case field, message }

    init(status: HTTPResponse.Status = .badRequest, field: String, message: String) {
        self.status = status
        self.field = field
        self.message = message
    }

    /// A body that is not the JSON the endpoint reads, with the path of the offending field.
    init(decoding error: DecodingError) {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.last?.stringValue ?? "body"
        }
        switch error {
        case let .keyNotFound(key, context):
            self.init(field: path(context, key), message: "missing '\(key.stringValue)'")
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            self.init(field: path(context), message: "'\(path(context))' must be \(Self.describe(type))")
        case let .dataCorrupted(context):
            self.init(field: path(context), message: context.codingPath.isEmpty ? "the body is not valid JSON" : "'\(path(context))': \(context.debugDescription)")
        @unknown default:
            self.init(field: "body", message: "the body cannot be read")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "a whole number"
        case is Float.Type, is Double.Type: "a number"
        case is [String].Type: "a list of strings"
        default: "a \(type)"
        }
    }

    var response: Response {
        struct Envelope: Encodable { var error: UIProblem }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let body = (try? JSONEncoder().encode(Envelope(error: self))) ?? Data(#"{"error":{"field":"server","message":"unencodable error"}}"#.utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
