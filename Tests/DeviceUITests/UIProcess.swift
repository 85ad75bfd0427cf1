import Foundation
import XCTest

/// `obclip ui --demo --port 0` as a child process: the built executable, the bundled demo
/// server in it, and the URL it prints.
final class UIProcess: @unchecked Sendable {
    let url: String
    private let process = Process()

    /// The `obclip` executable `swift build` put beside the test bundle.
    static func executable() -> URL? {
        let places = [Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent(),
                      Bundle(for: UIProcess.self).bundleURL.deletingLastPathComponent()].compactMap { $0 }
        return places.map { $0.appendingPathComponent("obclip") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    init(arguments: [String], log: URL) throws {
        guard let executable = Self.executable() else { throw XCTSkip("the obclip executable is not built next to the tests (run `swift build` first)") }
        process.executableURL = executable
        process.arguments = ["ui", "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // The first stdout line is "obclip ui: http://127.0.0.1:PORT/".
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression) else {
            process.terminate()
            throw Chromium.ProtocolError(description: "obclip ui printed no URL (stdout: \(text); see \(log.path))")
        }
        url = String(text[range])
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()  // SIGTERM: the UI's graceful shutdown
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
