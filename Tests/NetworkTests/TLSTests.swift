import Diffusion
import Foundation
import LoopbackFleet
import WireProtocol
import XCTest
@testable import CloudServer
@testable import DeviceClient

/// TLS terminated in the server process (`obclip serve --tls-cert --tls-key`), against a
/// certificate authority made for the test with openssl and clients that verify the chain and
/// the host name: curl with `--cacert`, and the device itself with `--ca-file`.
final class TLSTests: XCTestCase {
    /// A throw-away PKI: a CA, a server certificate for localhost and 127.0.0.1 signed by it, and
    /// an unrelated key.
    struct TestPKI {
        let directory: URL
        var caCertificate: String { directory.appendingPathComponent("ca.pem").path }
        var certificate: String { directory.appendingPathComponent("server.pem").path }
        var key: String { directory.appendingPathComponent("server.key").path }
        var otherKey: String { directory.appendingPathComponent("other.key").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let extensions = directory.appendingPathComponent("server.ext")
            try Data("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n".utf8)
                .write(to: extensions)
            let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            for arguments in [
                ["req", "-x509"] + curve + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=obclip test CA",
                                            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                ["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
                ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                 "-days", "2", "-extfile", "server.ext"],
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key"],
            ] {
                let (status, output) = try TLSTests.run("openssl", arguments, in: directory)
                guard status == 0 else { throw POSIXError(.EINVAL, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments): \(output)"]) }
            }
        }
    }

    /// Runs a program found on PATH to the end: exit status, stdout and stderr together.
    static func run(_ program: String, _ arguments: [String], in directory: URL? = nil) throws -> (Int32, String) {
        let (_, status, output) = try LoadHarnessTests.runToEnd(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments, directory: directory)
        return (status, output)
    }

    /// curl against the server: its exit status (0, or e.g. 60 for an unverifiable certificate)
    /// and the HTTP status it printed.
    func curl(_ arguments: [String]) throws -> (exit: Int32, output: String) {
        try Self.run("curl", ["-sS", "--max-time", "30", "-w", "%{http_code}"] + arguments)
    }

    func testServesVerifiedHTTPSAndClosesPlaintextAndStalledHandshakes() async throws {
        let pki = try TestPKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let tls = try ServerTLS(certificateFile: pki.certificate, keyFile: pki.key)
        let server = try await LoopbackServer.start(backend: try PacedBackend(), tokens: ["tok-tls"],
                                                    settings: CloudServerSettings(idleTimeout: .seconds(1), tls: tls))
        let port = server.running.port

        // A verifying client (the test CA, host name checked) gets answers over TLS.
        let health = try curl(["--cacert", pki.caCertificate, "-o", "/dev/null", "https://localhost:\(port)/healthz"])
        XCTAssertEqual(health.exit, 0, health.output)
        XCTAssertEqual(health.output, "200")
        let request = GenerationRequest(candidates: ["a photo of a person", "a photo of a dog"], seed: 3, steps: 4, switchStep: 2,
                                        scheduler: "ddim", width: 64, height: 64)
        let requestFile = pki.directory.appendingPathComponent("request.json"), answerFile = pki.directory.appendingPathComponent("answer")
        try request.encodedJSON().write(to: requestFile)
        let generated = try curl(["--cacert", pki.caCertificate, "-H", "Authorization: Bearer tok-tls", "-H", "Content-Type: application/json",
                                  "--data-binary", "@\(requestFile.path)", "-o", answerFile.path, "https://127.0.0.1:\(port)/v1/generate"])
        XCTAssertEqual(generated.exit, 0, generated.output)
        XCTAssertEqual(generated.output, "200")
        let response = try ResponseCodec.decode(Data(contentsOf: answerFile))
        XCTAssertNoThrow(try response.validate(for: request))

        // A client that does not trust the CA refuses the server (curl: 60, certificate problem).
        let untrusted = try curl(["-o", "/dev/null", "https://localhost:\(port)/healthz"])
        XCTAssertEqual(untrusted.exit, 60, untrusted.output)

        // Plain HTTP to the TLS port: no HTTP answer, the connection is closed at once.
        let started = ContinuousClock.now
        let plain = try RawConnection(port: port, receiveTimeout: 10)
        plain.send(Data("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        var received = Data()
        while let chunk = plain.receive(), !chunk.isEmpty { received += chunk }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "plaintext connection not closed")
        XCTAssertNil(received.range(of: Data("HTTP/".utf8)), "plaintext got an HTTP answer: \(String(decoding: received, as: UTF8.self))")

        // A peer that connects and never starts the handshake is closed by the idle time-out.
        let stalledAt = ContinuousClock.now
        let stalled = try RawConnection(port: port, receiveTimeout: 10)
        XCTAssertTrue(stalled.readsToEnd(), "stalled handshake not closed")
        XCTAssertLessThan(ContinuousClock.now - stalledAt, .seconds(5))

        // And the server still serves verified TLS afterwards.
        let again = try curl(["--cacert", pki.caCertificate, "-o", "/dev/null", "https://localhost:\(port)/healthz"])
        XCTAssertEqual(again.output, "200", "\(again)")
        try await server.shutdown()
    }

    func testUnusableCertificateOrKeyIsRefusedNamingTheFile() throws {
        let pki = try TestPKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        func refusal(_ certificate: String, _ key: String) -> String {
            do {
                _ = try ServerTLS(certificateFile: certificate, keyFile: key)
                return "accepted"
            } catch { return error.description }
        }
        let mismatched = refusal(pki.certificate, pki.otherKey)
        XCTAssertTrue(mismatched.contains(pki.otherKey) && mismatched.contains("not the private key"), mismatched)
        let keyAsCertificate = refusal(pki.key, pki.key)
        XCTAssertTrue(keyAsCertificate.contains(pki.key) && keyAsCertificate.contains("certificate"), keyAsCertificate)
        let missing = refusal(pki.certificate, pki.directory.appendingPathComponent("absent.key").path)
        XCTAssertTrue(missing.contains("absent.key") && missing.contains("cannot be read"), missing)

        // The same checks behind `obclip serve`, before any model is loaded.
        let (_, status, output) = try LoadHarnessTests.obclip(["serve", "--model", "random:sd15", "--port", "0",
                                                               "--tls-cert", pki.certificate, "--tls-key", pki.otherKey])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("not the private key"), output)
        let (_, alone, aloneOutput) = try LoadHarnessTests.obclip(["serve", "--model", "random:sd15", "--tls-cert", pki.certificate])
        XCTAssertNotEqual(alone, 0)
        XCTAssertTrue(aloneOutput.contains("--tls-cert and --tls-key go together"), aloneOutput)
    }

    /// `obclip generate --ca-file` against a TLS server whose certificate the test CA signed: a
    /// real private generation over HTTPS on the demo models. Without the CA the device refuses
    /// the server with a certificate error before any candidate is sent; an unusable CA file is
    /// refused naming it, before any model loads.
    func testDeviceGeneratesOverHTTPSTrustingItsPrivateCA() async throws {
        let pki = try TestPKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let models = try ServerModels(source: .directory(DeviceFootprintTests.models.appendingPathComponent("demo-server")))
        let server = try await LoopbackServer.start(backend: ModelBackend(models: models),
                                                    settings: CloudServerSettings(tls: try ServerTLS(certificateFile: pki.certificate, keyFile: pki.key)))
        let metrics = server.running.service.metrics
        func generate(_ more: [String], output: String) throws -> (status: Int32, output: String) {
            let (_, status, text) = try LoadHarnessTests.obclip(
                ["generate", "a portrait of an old woman with glasses, blue background", "--server", "https://localhost:\(server.running.port)",
                 "--device-model", DeviceFootprintTests.models.appendingPathComponent("demo-device").path,
                 "--steps", "4", "--switch-step", "2", "--width", "64", "--height", "64",
                 "--output", pki.directory.appendingPathComponent(output).path] + more)
            return (status, text)
        }

        let trusted = try generate(["--ca-file", pki.caCertificate], output: "trusted.png")
        XCTAssertEqual(trusted.status, 0, trusted.output)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: pki.directory.appendingPathComponent("trusted.json"))) as? [String: Any]
        let wire = try XCTUnwrap(report?["wire"] as? [String: Any], "\(report ?? [:])")
        XCTAssertGreaterThan(wire["responseBytes"] as? Int ?? 0, 0)
        XCTAssertEqual(metrics.count(.ok), 1)

        let untrusted = try generate([], output: "untrusted.png")
        XCTAssertEqual(untrusted.status, 1, untrusted.output)
        XCTAssertTrue(untrusted.output.contains("TLS with the server failed") && untrusted.output.contains("CERTIFICATE_VERIFY_FAILED")
                      && untrusted.output.contains("--ca-file"), untrusted.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pki.directory.appendingPathComponent("untrusted.png").path))
        XCTAssertEqual(metrics.count(.ok) + metrics.count(.invalid), 1, "the untrusted exchange reached the server's handler")

        let unusable = try generate(["--ca-file", pki.key], output: "unusable.png")
        XCTAssertNotEqual(unusable.status, 0)
        XCTAssertTrue(unusable.output.contains("CA file \(pki.key)"), unusable.output)
        XCTAssertFalse(unusable.output.contains("loading the device model"), unusable.output)
        try await server.shutdown()
    }

    /// The same through the client API: a `CertificateAuthority` makes the device's generation go
    /// through; without it the error is `.tls`, not retried.
    func testCloudClientTrustsOnlyTheGivenAuthority() async throws {
        let pki = try TestPKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let server = try await LoopbackServer.start(backend: ModelBackend(models: try EndToEndTests.serverModels()),
                                                    settings: CloudServerSettings(tls: try ServerTLS(certificateFile: pki.certificate, keyFile: pki.key)))
        let url = URL(string: "https://127.0.0.1:\(server.running.port)")!
        let tiny = try EndToEndTests.models.get()
        let settings = GenerationSettings(steps: 4, switchStep: 2, scheduler: "dpm++2m", guidanceScale: 7.5, width: 64, height: 64)
        let trusted = CloudClient(server: url, trust: try CertificateAuthority(pemFile: pki.caCertificate))
        let outcome = try await HybridGenerator(device: tiny.device, cloud: trusted)
            .generate(prompt: "a photo of an old woman reading", mode: .obclip, settings: settings, seed: 5)
        XCTAssertEqual(outcome.latent.shape, [1, 4, 8, 8])
        let progress = LogCapture()
        do {
            _ = try await CloudClient(server: url, retry: RetryPolicy(maxAttempts: 3)).generate(try XCTUnwrap(outcome.request)) { progress.append($0) }
            XCTFail("a server signed by an unknown CA was trusted")
        } catch CloudClientError.tls(let message) {
            XCTAssertTrue(message.contains("CERTIFICATE_VERIFY_FAILED"), message)
        }
        XCTAssertEqual(progress.text.components(separatedBy: "sending").count, 2, "a certificate failure was retried:\n\(progress.text)")
        XCTAssertEqual(server.running.service.metrics.count(.ok), 1)
        try await server.shutdown()
    }
}
