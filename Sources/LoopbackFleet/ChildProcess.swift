import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program started in a process group of its own, with a bounded lifetime and its output in a
/// log file: the unit the fleet starts, kills and restarts.
///
/// Why not `Foundation.Process`: signals must reach every process the program starts (nginx's
/// workers, `timeout`'s child), which needs the group, and a test that crashes must not leave
/// servers behind, which needs the lifetime bound: the program runs under coreutils' `timeout`,
/// which ends it after `lifetime` seconds even if nobody is left to stop it.
public final class ChildProcess: @unchecked Sendable {
    /// The process id of the group's leader (`timeout`, or the program itself without it).
    public let pid: pid_t
    public let logFile: URL
    /// Whether the leader is `timeout` with the program as its child.
    private let usesTimeout: Bool
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`; `environment` entries override the inherited ones.
    public init(executable: String, arguments: [String], environment: [String: String] = [:], logFile: URL,
                lifetime: Int) throws {
        self.logFile = logFile
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let timeout = ["/usr/bin/timeout", "/bin/timeout"].first { FileManager.default.isExecutableFile(atPath: $0) }
        usesTimeout = timeout != nil
        let argv = (timeout.map { [$0, "--kill-after=5", "\(lifetime)"] } ?? []) + [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile.path, O_WRONLY | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // The calling thread may be a Dispatch worker with every signal blocked, and a blocked
        // mask survives exec: the child would never see SIGTERM. Start it with none blocked and
        // the termination signals at their defaults.
        var noSignals = sigset_t(), terminationSignals = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&terminationSignals)
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE] { sigaddset(&terminationSignals, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &terminationSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var child = pid_t()
        let result = posix_spawn(&child, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw FleetError.cannotStart(program: argv[0], reason: String(cString: strerror(result))) }
        pid = child
    }


    /// Whether the group's leader has not exited yet (reaps it when it has).
    public var isRunning: Bool {
        lock.withLock {
            if exitStatus != nil { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || result == -1 { exitStatus = result == pid ? status : -1; return false }
            return true
        }
    }

    /// Whether the program has exited with status 0.
    public var exitedSuccessfully: Bool { exitCode == 0 }

    /// The exit status once the leader has exited normally; nil while it runs or when a signal
    /// ended it.
    public var exitCode: Int32? {
        guard !isRunning else { return nil }
        return lock.withLock { exitStatus.flatMap { $0 & 0x7f == 0 ? ($0 >> 8) & 0xff : nil } }
    }

    /// The signal that ended the leader, once it has exited so; nil otherwise.
    public var terminatingSignal: Int32? {
        guard !isRunning else { return nil }
        return lock.withLock { exitStatus.flatMap { $0 & 0x7f != 0 && $0 != -1 ? $0 & 0x7f : nil } }
    }

    /// Waits up to `seconds` for the program to exit; true if it did.
    @discardableResult
    public func waitForExit(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning {
            if Date() >= deadline { return false }
            await Self.pause()
        }
        return true
    }

    /// 20 ms that a cancelled task waits too: `Task.sleep` returns at once once the task is
    /// cancelled, which turned this loop into a busy wait exactly when a cancelled load stops
    /// its replicas.
    private static func pause() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { done.resume() }
        }
    }

    /// SIGTERM to the leader (`timeout` passes it on to the program once; nginx's master to its
    /// workers), then SIGKILL to the group if it has not exited after `grace` seconds. Returns
    /// once the leader has exited.
    public func stop(grace: Double = 10) async {
        terminate()
        if await waitForExit(seconds: grace) { return }
        kill(-pid, SIGKILL)
        await waitForExit(seconds: 10)
    }

    /// SIGTERM to the leader, returning at once (the program's own shutdown, e.g. a drain, is
    /// what is being watched).
    public func terminate() {
        if isRunning { kill(pid, SIGTERM) }
    }

    /// SIGKILL to the whole group at once, as a crash or the OOM killer would.
    public func killNow() async {
        kill(-pid, SIGKILL)
        await waitForExit(seconds: 10)
    }

    /// The program's process id (the child of `timeout`, or the leader itself); nil once the
    /// leader has exited.
    private var programPID: String? {
        guard isRunning else { return nil }
        guard usesTimeout else { return "\(pid)" }
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.map(String.init)
    }

    /// User + system CPU seconds of the program so far, read from `/proc`; nil once it has exited.
    public func programCPUSeconds() -> Double? {
        guard let program = programPID, let stat = try? String(contentsOfFile: "/proc/\(program)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3, utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The program's peak resident memory so far (`VmHWM`), in bytes; nil once it has exited.
    public func programPeakResidentBytes() -> Int? { programStatus("VmHWM").map { $0 * 1024 } }

    /// A numeric field of the program's `/proc/PID/status` in its unit (kB for memory), e.g.
    /// `VmHWM`, `VmRSS`, `Threads`; nil once it has exited.
    public func programStatus(_ field: String) -> Int? {
        guard let program = programPID, let status = try? String(contentsOfFile: "/proc/\(program)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }
    }

    /// Lowers the program's peak resident memory (`VmHWM`) to its current resident size, so a
    /// later reading is the peak of what happened since (Linux `clear_refs`, value 5).
    public func resetPeakResident() throws {
        guard let program = programPID else { throw FleetError.connection("the program has exited") }
        try Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/\(program)/clear_refs"))
    }

    /// The program's open file descriptors (sockets included); nil once it has exited.
    public func programOpenFiles() -> Int? {
        guard let program = programPID else { return nil }
        return (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(program)/fd"))?.count
    }

    /// The program's output so far (for failure messages).
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        // Last resort for a caller that forgot to stop it: nothing outlives its owner.
        if isRunning { kill(-pid, SIGKILL) }
    }
}

/// Why the fleet could not do what it was asked, with what to do about it.
public enum FleetError: Error, CustomStringConvertible {
    case cannotStart(program: String, reason: String)
    case notFound(program: String, hint: String)
    case notReady(what: String, seconds: Double, log: String)
    case badTemplate(path: String, reason: String)
    case connection(String)

    public var description: String {
        switch self {
        case let .cannotStart(program, reason): "cannot start \(program): \(reason)"
        case let .notFound(program, hint): "\(program) not found: \(hint)"
        case let .notReady(what, seconds, log): "\(what) did not become ready within \(seconds) s; its output:\n\(log.suffix(2000))"
        case let .badTemplate(path, reason): "\(path): \(reason)"
        case let .connection(reason): reason
        }
    }
}
