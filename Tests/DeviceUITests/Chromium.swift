import Foundation
import XCTest

/// A headless Chromium driven over the DevTools protocol through `--remote-debugging-pipe`
/// (JSON messages, NUL-terminated, on the browser's fds 3 and 4): no WebSocket client, no
/// driver download, only Debian's `chromium`.
final class Chromium: @unchecked Sendable {
    struct ProtocolError: Error, CustomStringConvertible { let description: String }

    private let process = Process()
    private let commands = Pipe()
    private let replies = Pipe()
    private let lock = NSLock()
    private var nextID = 1
    private var waiting: [Int: (DispatchSemaphore, [String: Any]?)] = [:]
    private var buffer = Data()
    private let profile: URL
    /// The page's session (after `openPage`).
    private var session: String?

    /// The first browser on PATH (or `OBCLIP_CHROMIUM`), nil if there is none.
    static func executable() -> String? {
        if let chosen = ProcessInfo.processInfo.environment["OBCLIP_CHROMIUM"] { return chosen }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }

    /// Starts the browser; its log goes to `log`.
    init(executable: String, log: URL, width: Int = 1280, height: Int = 1000) throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-ui-chromium-\(UUID().uuidString)")
        // The shell hands the browser our pipes as fds 3 (commands in) and 4 (replies out).
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" \"$@\" 3<&0 4>&1 0</dev/null 1>/dev/null", executable,
                             "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
                             "--user-data-dir=\(profile.path)", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                             "--disable-background-networking", "--disable-sync", "--hide-scrollbars", "--mute-audio",
                             "--window-size=\(width),\(height)", "about:blank"]
        process.standardInput = commands
        process.standardOutput = replies
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let reader = Thread { [weak self] in self?.readReplies() }
        reader.start()
        _ = try send("Browser.getVersion")
    }

    deinit { close() }

    func close() {
        if process.isRunning {
            _ = try? send("Browser.close", timeout: 5)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.terminate() }
        }
        try? FileManager.default.removeItem(at: profile)
    }

    private func readReplies() {
        let handle = replies.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            lock.lock()
            buffer.append(chunk)
            var messages: [Data] = []
            while let end = buffer.firstIndex(of: 0) {
                messages.append(buffer[buffer.startIndex..<end])
                buffer.removeSubrange(buffer.startIndex...end)
            }
            lock.unlock()
            for message in messages {
                guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any], let id = object["id"] as? Int else { continue }
                lock.lock()
                let entry = waiting[id]
                waiting[id] = (entry?.0 ?? DispatchSemaphore(value: 0), object)
                lock.unlock()
                entry?.0.signal()
            }
        }
        // The browser went away: wake every waiter.
        lock.lock()
        let all = waiting.values.map(\.0)
        lock.unlock()
        for semaphore in all { semaphore.signal() }
    }

    /// Sends one command (to the page's session unless `browser`) and waits for its result.
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], browser: Bool = false, timeout: TimeInterval = 30) throws -> [String: Any] {
        let semaphore = DispatchSemaphore(value: 0)
        lock.lock()
        let id = nextID
        nextID += 1
        waiting[id] = (semaphore, nil)
        lock.unlock()
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if !browser, let session { message["sessionId"] = session }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        commands.fileHandleForWriting.write(data)
        guard semaphore.wait(timeout: .now() + timeout) == .success else { throw ProtocolError(description: "\(method): no answer in \(timeout) s") }
        lock.lock()
        let reply = waiting.removeValue(forKey: id)?.1
        lock.unlock()
        guard let reply else { throw ProtocolError(description: "\(method): the browser went away") }
        if let error = reply["error"] as? [String: Any] { throw ProtocolError(description: "\(method): \(error)") }
        return reply["result"] as? [String: Any] ?? [:]
    }

    /// Opens a tab at `url` and makes it the target of later commands.
    func openPage(_ url: String, width: Int = 1280, height: Int = 1000) throws {
        let target = try send("Target.createTarget", ["url": "about:blank"], browser: true)
        let attached = try send("Target.attachToTarget", ["targetId": target["targetId"]!, "flatten": true], browser: true)
        session = attached["sessionId"] as? String
        try send("Page.enable")
        try send("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
        try navigate(url)
    }

    func navigate(_ url: String) throws {
        try send("Page.navigate", ["url": url])
        try waitFor("document.readyState === 'complete' && document.body && document.body.dataset.ready === 'true'", what: "the page to load")
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its JSON value.
    @discardableResult
    func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            let text = ((exception["exception"] as? [String: Any])?["description"] as? String) ?? "\(exception)"
            throw ProtocolError(description: "page threw: \(text)\nin: \(expression)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `condition` (a JavaScript expression) until it is true.
    func waitFor(_ condition: String, what: String, timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? evaluate("Boolean(\(condition))")) as? Bool == true { return }
            Thread.sleep(forTimeInterval: 0.03)
        }
        throw ProtocolError(description: "timed out after \(timeout) s waiting for \(what) (\(condition))")
    }

    /// Types `text` one character at a time into the focused element, as a keyboard would.
    func type(_ text: String) throws {
        for character in text { try send("Input.insertText", ["text": String(character)]) }
    }

    /// Saves a PNG of the page as it is now.
    func screenshot(to url: URL) throws {
        let shot = try send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": false])
        guard let base64 = shot["data"] as? String, let png = Data(base64Encoded: base64) else { throw ProtocolError(description: "no screenshot data") }
        try png.write(to: url)
    }
}
