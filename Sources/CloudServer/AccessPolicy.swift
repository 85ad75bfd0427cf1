import Foundation

/// Who may call the server: the set of accepted bearer tokens, and whether the configured bind
/// address is acceptable without them.
///
/// A server with no tokens is open to anyone who can reach it, so it may only listen on a
/// loopback address; that rule is enforced here rather than left to deployment docs.
public struct AccessPolicy: Sendable, Equatable {
    /// Accepted bearer tokens. Empty means authentication is off (loopback only).
    public let tokens: Set<String>

    public init(tokens: Set<String>) { self.tokens = tokens }

    /// Whether requests must carry `Authorization: Bearer <token>`.
    public var requiresAuthentication: Bool { !tokens.isEmpty }

    /// Reads tokens, one per line (blank lines and `#` comments ignored), from `file` if given,
    /// else from the comma- or newline-separated environment variable `OBCLIP_TOKENS`.
    public static func load(tokenFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AccessPolicy {
        if let tokenFile {
            let text: String
            do {
                text = try String(contentsOfFile: tokenFile, encoding: .utf8)
            } catch {
                throw ServerConfigurationError.unreadableTokenFile(path: tokenFile, reason: error.localizedDescription)
            }
            let tokens = parse(text, separators: ["\n", "\r"])
            guard !tokens.isEmpty else { throw ServerConfigurationError.emptyTokenFile(path: tokenFile) }
            return AccessPolicy(tokens: tokens)
        }
        return AccessPolicy(tokens: parse(environment["OBCLIP_TOKENS"] ?? "", separators: [",", "\n", "\r"]))
    }

    /// A warning when the token file at `path` can be read by users other than its owner (group
    /// or world permission bits), as ssh warns about private keys; nil when it is private.
    public static func permissionWarning(tokenFile path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let mode = (attributes[.posixPermissions] as? NSNumber)?.uint16Value, mode & 0o077 != 0 else { return nil }
        return "token file \(path) is readable by other users (mode \(String(mode & 0o777, radix: 8))); run chmod 600 \(path)"
    }

    private static func parse(_ text: String, separators: Set<Character>) -> Set<String> {
        Set(text.split(whereSeparator: { separators.contains($0) })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }

    /// Refuses an open (token-less) server on a non-loopback host.
    public func checkBindable(host: String) throws {
        guard requiresAuthentication || AccessPolicy.isLoopback(host) else {
            throw ServerConfigurationError.openServerOnNonLoopbackHost(host: host)
        }
    }

    /// Whether `host` names a loopback address (127.0.0.0/8, ::1 or localhost).
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }

    /// Whether an `Authorization` header value carries an accepted token. Compares in constant
    /// time per candidate token so response timing does not reveal token prefixes.
    public func authorizes(authorizationHeader: String?) -> Bool {
        guard requiresAuthentication else { return true }
        guard let header = authorizationHeader, header.hasPrefix("Bearer ") else { return false }
        let presented = Array(header.dropFirst("Bearer ".count).utf8)
        var accepted = false
        for token in tokens {
            let expected = Array(token.utf8)
            var difference = UInt8(expected.count == presented.count ? 0 : 1)
            for i in 0..<expected.count { difference |= expected[i] ^ (i < presented.count ? presented[i] : 0) }
            accepted = accepted || difference == 0
        }
        return accepted
    }
}

/// A server configuration that cannot be started, with the offending setting named.
public enum ServerConfigurationError: Error, Equatable, CustomStringConvertible {
    case unreadableTokenFile(path: String, reason: String)
    case emptyTokenFile(path: String)
    case openServerOnNonLoopbackHost(host: String)

    public var description: String {
        switch self {
        case let .unreadableTokenFile(path, reason): "cannot read token file \(path): \(reason)"
        case let .emptyTokenFile(path): "token file \(path) holds no tokens"
        case let .openServerOnNonLoopbackHost(host):
            "refusing to bind \(host) without authentication: configure tokens (--tokens FILE or OBCLIP_TOKENS) or bind a loopback address"
        }
    }
}
