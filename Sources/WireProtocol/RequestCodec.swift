import Foundation

extension GenerationRequest {
    /// MIME type of an encoded request.
    public static let contentType = "application/json"

    /// The JSON body the client sends (keys sorted, so equal requests are equal bytes).
    public func encodedJSON() throws -> Data { try JSONEncoder.sorted.encode(self) }

    /// Parses a JSON request body, turning decoding failures into a `RequestError` that names
    /// the missing or mistyped field.
    public static func decode(json body: Data) throws -> GenerationRequest {
        do {
            return try JSONDecoder().decode(GenerationRequest.self, from: body)
        } catch let DecodingError.keyNotFound(key, context) {
            throw RequestError(.invalid, field: path(context.codingPath + [key]), "required field is missing")
        } catch let DecodingError.typeMismatch(type, context) {
            throw RequestError(.invalid, field: path(context.codingPath), "expected \(type)")
        } catch let DecodingError.valueNotFound(type, context) {
            throw RequestError(.invalid, field: path(context.codingPath), "expected \(type), got null")
        } catch let DecodingError.dataCorrupted(context) {
            throw RequestError(.invalid, field: context.codingPath.isEmpty ? "body" : path(context.codingPath),
                               "malformed JSON: \(context.debugDescription)")
        } catch {
            throw RequestError(.invalid, field: "body", "malformed request: \(error)")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.reduce(into: "") { out, key in
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
    }
}
