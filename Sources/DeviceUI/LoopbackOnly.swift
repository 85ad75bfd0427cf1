import Hummingbird

/// Answers only requests addressed to a loopback name (Host `127.0.0.1`, `localhost` or
/// `[::1]`), and for state-changing requests only from a page of such an origin. Binding to
/// loopback keeps other machines out; this keeps out web pages the person visits elsewhere,
/// which could otherwise reach the UI by DNS rebinding or a cross-site form.
struct LoopbackOnly: RouterMiddleware {
    typealias Context = BasicRequestContext

    static let names: Set<String> = ["127.0.0.1", "localhost", "[::1]"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority, Self.names.contains(Self.hostName(authority)) else {
            return UIProblem(status: .forbidden, field: "host", message: "this UI answers only requests to 127.0.0.1 or localhost").response
        }
        if request.method != .get && request.method != .head, let origin = request.headers[.origin] {
            let host = origin.hasPrefix("http://") ? Self.hostName(String(origin.dropFirst("http://".count))) : ""
            guard Self.names.contains(host) else {
                return UIProblem(status: .forbidden, field: "origin", message: "requests from \(origin) are not accepted").response
            }
        }
        return try await next(request, context)
    }

    /// "127.0.0.1:8188" → "127.0.0.1"; "[::1]:8188" → "[::1]".
    static func hostName(_ authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return String(authority[...close]).lowercased() }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "").lowercased()
    }
}
