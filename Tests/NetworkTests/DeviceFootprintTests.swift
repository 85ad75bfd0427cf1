import Diffusion
import Foundation
import XCTest
import WireProtocol
@testable import CloudServer

/// What `obclip generate` leaves on the device: the built executable runs with its own HOME,
/// TMPDIR and working directory against a real server on the bundled demo models, and
/// afterwards nothing but the two chosen output files exists, and no other byte written
/// anywhere in its sandbox holds a word of the prompt. Against a hostile server it exits with a
/// clear error and writes nothing at all.
final class DeviceFootprintTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Models")
    /// The prompt, with a word that appears nowhere else.
    static let prompt = "a portrait of an old woman with a xylophonequokka, blue background"

    struct Run {
        let status: Int32
        let stderr: String
        let sandbox: URL
        /// Every regular file under the sandbox, relative to it.
        let files: [String]
    }

    func generate(server: URL) throws -> Run {
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-footprint-\(UUID().uuidString)")
        for folder in ["home", "tmp", "cwd", "out"] {
            try FileManager.default.createDirectory(at: sandbox.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let (reason, status, output) = try LoadHarnessTests.obclip(
            ["generate", Self.prompt, "--server", server.absoluteString,
             "--device-model", Self.models.appendingPathComponent("demo-device").path,
             "--steps", "4", "--switch-step", "2", "--width", "64", "--height", "64",
             "--output", sandbox.appendingPathComponent("out/image.png").path],
            environment: ["HOME": sandbox.appendingPathComponent("home").path, "TMPDIR": sandbox.appendingPathComponent("tmp").path,
                          "PATH": "/usr/bin:/bin"],
            directory: sandbox.appendingPathComponent("cwd"))
        XCTAssertEqual(reason, .exit, "obclip generate died of a signal:\n\(output)")
        let files = FileManager.default.enumerator(at: sandbox, includingPropertiesForKeys: [.isRegularFileKey])!
            .compactMap { $0 as? URL }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .map { String($0.standardizedFileURL.path.dropFirst(sandbox.standardizedFileURL.path.count + 1)) }
        return Run(status: status, stderr: output, sandbox: sandbox, files: files.sorted())
    }

    func testGenerateWritesOnlyItsOutputFiles() async throws {
        let models = try ServerModels(source: .directory(Self.models.appendingPathComponent("demo-server")))
        let server = try await LoopbackServer.start(backend: ModelBackend(models: models))
        let run = try generate(server: server.url)
        try await server.shutdown()
        defer { try? FileManager.default.removeItem(at: run.sandbox) }
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.files, ["out/image.json", "out/image.png"], run.stderr)
        let png = try Data(contentsOf: run.sandbox.appendingPathComponent("out/image.png"))
        for word in ["xylophonequokka", "portrait", "woman"] {
            XCTAssertNil(png.range(of: Data(word.utf8)), "the PNG carries '\(word)'")
        }
    }

    func testHostileAnswerEndsInAClearErrorAndWritesNothing() async throws {
        let tiny = try ServerModels(source: .directory(Self.models.appendingPathComponent("demo-server")))
        // An honest-looking answer whose latents hold a NaN.
        let server = try HostileHTTPServer { body in
            guard let request = try? GenerationRequest.decode(json: body) else { return [] }
            let semaphore = DispatchSemaphore(value: 0)
            let box = BodyBox()
            Task.detached {
                var response = try! await ModelBackend(models: tiny).generate([request], observer: .none)[0]
                response.latents.scalars[5] = .nan
                box.body = try! ResponseCodec.encode(response)
                semaphore.signal()
            }
            semaphore.wait()
            return [.send(HostileHTTPServer.response(body: box.body))]
        }
        defer { server.stop() }
        let run = try generate(server: server.url)
        defer { try? FileManager.default.removeItem(at: run.sandbox) }
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("invalid server response: latents: non-finite value"), run.stderr)
        XCTAssertEqual(run.files, [], "files written after a rejected answer")
        XCTAssertEqual(server.requests, 1, "a rejected answer is not retried")
    }
}

/// A body handed from a detached task to the server thread waiting for it.
private final class BodyBox: @unchecked Sendable {
    var body = Data()
}
