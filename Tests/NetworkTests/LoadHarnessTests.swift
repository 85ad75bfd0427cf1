import Foundation
import XCTest

/// The load and fault campaign (`obclip bench load`) at CI size: the built obclip executable
/// runs each scenario against real `obclip serve` child processes on loopback with the bundled
/// demo models, and every row of its table must read "held" (the log audit row included).
final class LoadHarnessTests: XCTestCase {
    /// The obclip executable built beside this test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("obclip")
    }

    /// Runs the obclip executable to the end; its exit, and stdout and stderr together.
    static func obclip(_ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil) throws
        -> (reason: Process.TerminationReason, status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "no obclip executable at \(executable.path) (swift test builds it)"])
        }
        return try runToEnd(executable, arguments, environment: environment, directory: directory)
    }

    /// Runs `program` to the end; its exit, and stdout and stderr together.
    static func runToEnd(_ program: URL, _ arguments: [String], environment: [String: String]? = nil, directory: URL? = nil) throws
        -> (reason: Process.TerminationReason, status: Int32, output: String) {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationReason, process.terminationStatus, output)
    }

    func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let (_, status, output) = try Self.obclip(["bench", "load"] + arguments)
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| scenario") }
        XCTAssertEqual(status, 0, output, file: file, line: line)
        XCTAssertGreaterThanOrEqual(rows.count, 2, output, file: file, line: line)
        for row in rows { XCTAssertTrue(row.hasSuffix("| held |"), String(row), file: file, line: line) }
    }

    func testBurstAgainstABoundedQueue() throws {
        try run(["--scenarios", "burst", "--clients", "12", "--queue", "3"])
    }

    func testDisconnectsAndSlowClientsFreeTheServer() throws {
        try run(["--scenarios", "disconnects", "--misbehaving", "20", "--concurrency", "10", "--timeout", "0.5"])
    }

    func testKillAndRestartGivesTheSameLatents() throws {
        try run(["--scenarios", "kill"])
    }

    func testDrainOnSIGTERM() throws {
        try run(["--scenarios", "drain", "--in-flight", "3", "--drain-seconds", "20"])
    }

    func testOverMemoryRequestIsRefused() throws {
        try run(["--scenarios", "memory"])
    }

    /// The server's activation estimate stays above the peak RSS a request really adds.
    func testMemoryEstimateIsAnUpperBound() throws {
        try run(["--scenarios", "estimate", "--estimate-sizes", "64x4,256x4"])
    }
}
