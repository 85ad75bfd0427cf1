import Foundation

/// The JSON body of every error response: `{"error":{"kind":…,"field":…,"message":…}}`.
/// `field` names the request field or server limit at fault, so clients can act on it.
public struct ErrorEnvelope: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        /// `invalid`, `limitExceeded`, `unsupportedVersion`, `unauthorized`, `overloaded`,
        /// `payloadTooLarge`, `notFound`, `cancelled`, `timeout` or `internal`.
        public var kind: String
        public var field: String?
        public var message: String
    }

    public var error: Detail

    public init(kind: String, field: String?, message: String) {
        error = Detail(kind: kind, field: field, message: message)
    }

    public init(_ requestError: RequestError) {
        self.init(kind: requestError.kind.rawValue, field: requestError.field, message: requestError.message)
    }

    public func encoded() -> Data {
        // Encoding a struct of strings cannot fail.
        (try? JSONEncoder.sorted.encode(self)) ?? Data()
    }
}
