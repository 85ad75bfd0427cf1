import XCTest
@testable import CloudServer

final class AccessPolicyTests: XCTestCase {
    func testOpenServerIsLoopbackOnly() throws {
        let open = AccessPolicy(tokens: [])
        XCTAssertNoThrow(try open.checkBindable(host: "127.0.0.1"))
        XCTAssertNoThrow(try open.checkBindable(host: "::1"))
        XCTAssertNoThrow(try open.checkBindable(host: "localhost"))
        XCTAssertThrowsError(try open.checkBindable(host: "0.0.0.0"))
        XCTAssertThrowsError(try open.checkBindable(host: "192.168.1.2"))
        XCTAssertNoThrow(try AccessPolicy(tokens: ["t"]).checkBindable(host: "0.0.0.0"))
    }

    func testBearerTokens() {
        let policy = AccessPolicy(tokens: ["secret-1", "other"])
        XCTAssertTrue(policy.authorizes(authorizationHeader: "Bearer secret-1"))
        XCTAssertTrue(policy.authorizes(authorizationHeader: "Bearer other"))
        XCTAssertFalse(policy.authorizes(authorizationHeader: "Bearer secret-"))
        XCTAssertFalse(policy.authorizes(authorizationHeader: "Bearer secret-12"))
        XCTAssertFalse(policy.authorizes(authorizationHeader: "secret-1"))
        XCTAssertFalse(policy.authorizes(authorizationHeader: nil))
        XCTAssertTrue(AccessPolicy(tokens: []).authorizes(authorizationHeader: nil))
    }

    func testTokenSources() throws {
        let env = try AccessPolicy.load(tokenFile: nil, environment: ["OBCLIP_TOKENS": "a, b,,c"])
        XCTAssertEqual(env.tokens, ["a", "b", "c"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-tokens-\(UUID()).txt")
        try "# comment\nalpha\n\nbeta\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try AccessPolicy.load(tokenFile: url.path, environment: [:]).tokens, ["alpha", "beta"])
        XCTAssertThrowsError(try AccessPolicy.load(tokenFile: "/nonexistent/tokens", environment: [:]))
    }
}

final class ServiceConfigurationTests: XCTestCase {
    func testServiceRefusesAnOpenNonLoopbackBind() throws {
        let backend = try PacedBackend()
        XCTAssertThrowsError(try CloudService(backend: backend, access: AccessPolicy(tokens: []),
                                              settings: CloudServerSettings(host: "0.0.0.0"), logger: LogCapture().logger)) { error in
            XCTAssertEqual(error as? ServerConfigurationError, .openServerOnNonLoopbackHost(host: "0.0.0.0"))
        }
        XCTAssertNoThrow(try CloudService(backend: backend, access: AccessPolicy(tokens: ["t"]),
                                          settings: CloudServerSettings(host: "0.0.0.0"), logger: LogCapture().logger))
    }
}
