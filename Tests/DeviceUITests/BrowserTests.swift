import DeviceClient
import Foundation
import PortraitWorld
import XCTest

/// `obclip ui --demo` in a real headless Chromium: the page as a person uses it, against the
/// bundled demo server and models in the UI's own process. Screenshots of every state go to
/// `.build/test-output/ui/` (or `OBCLIP_TEST_OUTPUT`).
final class BrowserTests: XCTestCase {
    nonisolated(unsafe) static var ui: UIProcess?
    nonisolated(unsafe) static var browser: Chromium?
    nonisolated(unsafe) static var startProblem: Error?

    static let portrait = "a portrait of an old woman with glasses in a red shirt, blue background"

    static var outputDirectory: URL {
        if let chosen = ProcessInfo.processInfo.environment["OBCLIP_TEST_OUTPUT"] { return URL(fileURLWithPath: chosen).appendingPathComponent("ui") }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/test-output/ui")
    }

    override class func setUp() {
        super.setUp()
        do {
            try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
            ui = try UIProcess(arguments: ["--demo"], log: outputDirectory.appendingPathComponent("obclip-ui.log"))
            guard let executable = Chromium.executable() else { return }
            browser = try Chromium(executable: executable, log: outputDirectory.appendingPathComponent("chromium.log"))
            try browser!.openPage(ui!.url)
        } catch {
            startProblem = error
        }
    }

    override class func tearDown() {
        browser?.close()
        ui?.stop()
        super.tearDown()
    }

    /// The browser on a fresh copy of the page; skips only when no browser is installed.
    private func page() throws -> Chromium {
        guard Chromium.executable() != nil else {
            throw XCTSkip("no Chromium on PATH (scripts/setup.sh installs Debian's chromium); the browser tests need one")
        }
        if let problem = Self.startProblem { throw problem }
        let browser = try XCTUnwrap(Self.browser)
        try browser.navigate(try XCTUnwrap(Self.ui).url)
        return browser
    }

    private func shoot(_ browser: Chromium, _ name: String) throws {
        try browser.screenshot(to: Self.outputDirectory.appendingPathComponent(name + ".png"))
    }

    private func setField(_ browser: Chromium, _ id: String, _ value: String) throws {
        let literal = String(decoding: try JSONSerialization.data(withJSONObject: [value]), as: UTF8.self)
        try browser.evaluate("(() => { const f = document.getElementById('\(id)'); f.value = \(literal)[0]; f.dispatchEvent(new Event('input', { bubbles: true })); })()")
    }

    private func typePrompt(_ browser: Chromium, _ text: String) throws {
        try browser.evaluate("document.getElementById('prompt').focus()")
        try browser.type(text)
    }

    private func string(_ browser: Chromium, _ expression: String) throws -> String {
        try browser.evaluate(expression) as? String ?? ""
    }

    func testTypingHighlightsHiddenWordsAndShowsTheCandidateSet() throws {
        let browser = try page()
        try typePrompt(browser, "a photo of Priya, a pregnant old Indian woman reading to her son")
        try browser.waitFor("document.getElementById('candidate-count').textContent !== '–' && document.querySelectorAll('mark.hl').length > 0",
                            what: "the highlights")
        try shoot(browser, "1-typing-highlights")
        let count = try XCTUnwrap(Int(try string(browser, "document.getElementById('candidate-count').textContent")))
        let listed = try XCTUnwrap(browser.evaluate("document.querySelectorAll('#candidate-list li').length") as? Int)
        XCTAssertEqual(listed, count, "the page lists every candidate it counts")
        XCTAssertGreaterThan(count, 6, "two people with gender, age and ethnicity slots")
        let marked = try string(browser, "Array.from(document.querySelectorAll('mark.hl')).map(m => m.textContent).join('|')")
        for word in ["Priya", "old", "Indian", "woman", "her", "son"] {
            XCTAssertTrue(marked.split(separator: "|").contains(Substring(word)), "'\(word)' is highlighted (marks: \(marked))")
        }
        XCTAssertFalse(marked.contains("photo"), "words that are not hidden are not marked as hidden")
        let hidden = try string(browser, "document.getElementById('hidden-list').textContent")
        XCTAssertTrue(hidden.contains("ethnicity among"), hidden)
        XCTAssertTrue(hidden.contains("caucasian"), "the values it is hidden among are shown: \(hidden)")
        let unhidden = try string(browser, "document.getElementById('unhidden-list').textContent")
        XCTAssertTrue(unhidden.contains("pregnant"), "a word the engine cannot hide is marked, with its reason: \(unhidden)")
        XCTAssertFalse(unhidden.contains("Priya"), "a listed first name is a slot (swapped per candidate), not unhidden: \(unhidden)")
        XCTAssertEqual(try browser.evaluate("document.querySelectorAll('mark.unhidden').length") as? Int, 1)
        XCTAssertTrue(try string(browser, "document.getElementById('cost').textContent").contains("FLOP"))
        let problem = try string(browser, "document.getElementById('problem').textContent")
        XCTAssertTrue(problem.contains("Prompt: the candidate set is more than the server takes: 60 candidates exceed the limit of 32"), problem)

        // Editing the prompt updates the set: a prompt with one person of one gender word.
        try browser.evaluate("(() => { const p = document.getElementById('prompt'); p.select(); })()")
        try browser.type("a man")
        try browser.waitFor("document.getElementById('candidate-count').textContent === '2'", what: "N = 2 for 'a man'")
    }

    func testGenerationShowsProgressThenAnImageTheCheckerReadsAsThePrompt() throws {
        let browser = try page()
        try setField(browser, "seed", "7")
        try typePrompt(browser, Self.portrait)
        try browser.waitFor("document.getElementById('candidate-count').textContent === '6'", what: "N = 6")
        // Every change of the bar, recorded by the page itself (the demo models are quick).
        try browser.evaluate("""
            window.seenProgress = [];
            new MutationObserver(() => {
              const bar = document.getElementById('progress-bar');
              window.seenProgress.push([bar.dataset.kind, bar.dataset.fraction]);
            }).observe(document.getElementById('progress-bar'), { attributes: true, attributeFilter: ['data-kind', 'data-fraction'] });
            document.getElementById('generate').click();
            """)
        try browser.waitFor("['done', 'failed', 'cancelled'].includes(document.getElementById('progress-bar').dataset.kind)", what: "the end", timeout: 60)
        let seen = try XCTUnwrap(browser.evaluate("window.seenProgress") as? [[String]])
        var kinds: [String] = []
        var fractions: [Double] = []
        for state in seen {
            if kinds.last != state[0] { kinds.append(state[0]) }
            if let fraction = Double(state[1]), fraction != fractions.last { fractions.append(fraction) }
        }
        let finalLabel = try string(browser, "document.getElementById('progress-label').textContent")
        XCTAssertEqual(kinds.last, "done", "kinds seen: \(kinds); label: \(finalLabel)")
        for kind in ["server", "device", "decoding"] { XCTAssertTrue(kinds.contains(kind), "\(kind) was shown: \(kinds)") }
        XCTAssertGreaterThanOrEqual(fractions.count, 10, "the bar advanced step by step: \(fractions)")
        XCTAssertEqual(fractions, fractions.sorted(), "the bar only moves forward")
        XCTAssertEqual(fractions.last, 1)

        try browser.waitFor("document.getElementById('result-image').complete && document.getElementById('result-image').naturalWidth === 64 && document.querySelector('#report dl')",
                            what: "the image and the report")
        try shoot(browser, "3-finished-with-report")
        let report = try string(browser, "document.getElementById('report').textContent")
        XCTAssertTrue(report.contains("hidden: gender"), report)
        XCTAssertTrue(report.contains("best guess"), report)

        // The pixels as the page shows them, read back through a canvas.
        let pixels = try XCTUnwrap(browser.evaluate("""
            (async () => {
              const img = document.getElementById('result-image'); await img.decode();
              const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
              const g = c.getContext('2d'); g.drawImage(img, 0, 0);
              const d = g.getImageData(0, 0, c.width, c.height).data; let s = '';
              for (let i = 0; i < d.length; i += 4) s += String.fromCharCode(d[i], d[i + 1], d[i + 2]);
              return btoa(s);
            })()
            """) as? String)
        let image = try RGBImage(width: 64, height: 64, pixels: Array(try XCTUnwrap(Data(base64Encoded: pixels))))
        let read = try AttributeChecker.read(image)
        XCTAssertEqual(read.gender, .female, "the checker reads \(read)")
        XCTAssertEqual(read.age, .old, "the checker reads \(read)")
        XCTAssertEqual(read.shirt, .red, "the checker reads \(read)")
        XCTAssertEqual(read.background, .blue, "the checker reads \(read)")

        // The report downloads as JSON with the privacy summary; the gallery holds the image.
        let downloaded = try string(browser, "fetch(document.getElementById('download-report').href).then(r => r.headers.get('content-disposition') + '\\n' + r.status)")
        XCTAssertTrue(downloaded.hasPrefix("attachment"), downloaded)
        let candidateCount = try browser.evaluate("fetch(document.getElementById('download-report').href).then(r => r.json()).then(j => j.privacy.candidateCount)") as? Int
        XCTAssertEqual(candidateCount, 6)
        try browser.waitFor("document.querySelectorAll('#gallery figure').length >= 1", what: "the gallery entry")
    }

    func testCancelStopsARunningGeneration() throws {
        let browser = try page()
        // Long enough to catch under any load: one server step, then 99 device steps at 256×256.
        try setField(browser, "steps", "100")
        try setField(browser, "switchStep", "1")
        try setField(browser, "width", "256")
        try setField(browser, "height", "256")
        try typePrompt(browser, Self.portrait)
        try browser.waitFor("document.getElementById('candidate-count').textContent === '6'", what: "N = 6")
        let galleryBefore = try XCTUnwrap(browser.evaluate("fetch('/api/gallery').then(r => r.json()).then(g => g.length)") as? Int)
        try browser.evaluate("document.getElementById('generate').click()")
        try browser.waitFor("document.getElementById('progress-bar').dataset.kind === 'device' && Number(document.getElementById('progress-bar').dataset.fraction) > 0.15",
                            what: "device steps")
        try shoot(browser, "2-progress")
        try browser.evaluate("document.getElementById('cancel').click()")
        try browser.waitFor("['done', 'failed', 'cancelled'].includes(document.getElementById('progress-bar').dataset.kind)", what: "the end", timeout: 60)
        XCTAssertEqual(try browser.evaluate("document.getElementById('progress-bar').dataset.kind") as? String, "cancelled")
        try shoot(browser, "4-cancelled")
        let label = try string(browser, "document.getElementById('progress-label').textContent")
        XCTAssertTrue(label.hasPrefix("cancelled"), label)
        let fraction = try string(browser, "String(Array.from(document.querySelectorAll('#progress-bar')).map(b => b.style.width))")
        XCTAssertFalse(fraction.hasPrefix("100"), "stopped before the end: \(fraction)")
        XCTAssertEqual(try browser.evaluate("document.getElementById('generate').disabled") as? Bool, false)
        XCTAssertEqual(try browser.evaluate("fetch('/api/gallery').then(r => r.json()).then(g => g.length)") as? Int, galleryBefore,
                       "a cancelled generation leaves no image")
    }

    func testDPSubsetModeSendsMOfNAndSaysSo() throws {
        let browser = try page()
        try typePrompt(browser, Self.portrait)
        try browser.evaluate("document.getElementById('dpSubset').click()")
        try setField(browser, "dpSubsetSize", "2")
        try browser.waitFor("document.getElementById('dp').textContent.includes('2 of 6')", what: "the DP summary")
        XCTAssertTrue(try string(browser, "document.getElementById('sent-note').textContent").contains("2 prompts"))
        try browser.evaluate("document.getElementById('generate').click()")
        try browser.waitFor("['done', 'failed', 'cancelled'].includes(document.getElementById('progress-bar').dataset.kind)", what: "the end", timeout: 60)
        let label = try string(browser, "document.getElementById('progress-label').textContent")
        XCTAssertEqual(try browser.evaluate("document.getElementById('progress-bar').dataset.kind") as? String, "done", label)
        try browser.waitFor("document.querySelector('#report dl')", what: "the report")
        XCTAssertTrue(try string(browser, "document.getElementById('report').textContent").contains("2 of 6 sent"))
        let sent = try browser.evaluate("fetch(document.getElementById('download-report').href).then(r => r.json()).then(j => [j.candidatesSent, j.dpSubset.subsetSize])") as? [Int]
        XCTAssertEqual(sent, [2, 2])
    }

    func testASecondGenerationWaitsItsTurnAndCanBeCancelledThere() throws {
        let browser = try page()
        let answer = try XCTUnwrap(browser.evaluate("""
            (async () => {
              const config = await (await fetch('/api/config')).json();
              const settings = Object.assign({}, config.defaults, { steps: 100, switchStep: 1, width: 256, height: 256 });
              const post = (path, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                         body: JSON.stringify(body || {}) }).then(r => r.json());
              const events = (links, kinds) => new Promise(resolve => {
                const source = new EventSource(links.events);
                for (const kind of kinds) source.addEventListener(kind, e => { source.close(); resolve([kind, JSON.parse(e.data).label]); });
              });
              const first = await post('/api/generations', { prompt: 'a portrait of an old man', settings });
              const second = await post('/api/generations', { prompt: 'a portrait of a young woman', settings });
              const waiting = await events(second, ['queued', 'preparing']);
              const cancelled = await post(second.cancel);
              const end = await events(second, ['cancelled', 'done', 'failed']);
              await post(first.cancel);
              const firstEnd = await events(first, ['cancelled', 'done', 'failed']);
              return [waiting[0], waiting[1], String(cancelled.cancelled), end[0], end[1], firstEnd[0]];
            })()
            """) as? [String])
        XCTAssertEqual(answer, ["queued", "waiting for 1 earlier generation on this device", "true", "cancelled", "cancelled before it started",
                                "cancelled"])
    }

    func testBadSettingsShowAClearMessageAndStartNothing() throws {
        let browser = try page()
        try typePrompt(browser, Self.portrait)
        try setField(browser, "switchStep", "40")
        try browser.waitFor("!document.getElementById('problem').hidden", what: "the settings message")
        var message = try string(browser, "document.getElementById('problem').textContent")
        XCTAssertTrue(message.contains("Switch point k") && message.contains("1...25"), message)
        XCTAssertEqual(try browser.evaluate("document.getElementById('switchStep').classList.contains('invalid')") as? Bool, true)
        try browser.evaluate("document.getElementById('generate').click()")
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(try browser.evaluate("document.getElementById('progress').hidden") as? Bool, true, "nothing started")
        try shoot(browser, "5-bad-settings")

        try setField(browser, "switchStep", "10")
        try setField(browser, "server", "not a url")
        try browser.waitFor("document.getElementById('problem').dataset.field === 'server' && !document.getElementById('problem').hidden",
                            what: "the server URL message")
        message = try string(browser, "document.getElementById('problem').textContent")
        XCTAssertTrue(message.contains("http(s) server URL"), message)

        try setField(browser, "server", try string(browser, "(async () => (await (await fetch('/api/config')).json()).defaults.server)()"))
        try setField(browser, "steps", "ten")
        try browser.waitFor("document.getElementById('problem').dataset.field === 'steps' && !document.getElementById('problem').hidden",
                            what: "the steps message")
        message = try string(browser, "document.getElementById('problem').textContent")
        XCTAssertTrue(message.contains("whole number"), message)
    }

    /// The endpoints themselves, without a browser: what a page elsewhere or a malformed body gets.
    func testEndpointsRefuseBadInputByName() async throws {
        if let problem = Self.startProblem { throw problem }
        let base = try XCTUnwrap(Self.ui).url
        func post(_ path: String, body: String, headers: [String: String] = ["Content-Type": "application/json"]) async throws -> (Int, [String: Any]) {
            let answer = try await HTTPExchange.send(.POST, URL(string: base + path)!, body: Data(body.utf8),
                                                     headers: headers.map { ($0.key, $0.value) }, timeout: 20)
            let json = (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? [:]
            return (answer.status, (json["error"] as? [String: Any]) ?? json)
        }
        var (status, error) = try await post("api/analyze", body: "{}", headers: ["Content-Type": "text/plain"])
        XCTAssertEqual(status, 415)
        (status, error) = try await post("api/analyze", body: "{not json")
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error["message"] as? String, "the body is not valid JSON")
        (status, error) = try await post("api/analyze", body: #"{"prompt": "a man"}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error["field"] as? String, "settings")
        (status, error) = try await post("api/generations", body: #"{"prompt": "a man"}"#, headers: ["Content-Type": "application/json", "Origin": "http://evil.example"])
        XCTAssertEqual(status, 403)
        XCTAssertEqual(error["field"] as? String, "origin")
        (status, error) = try await post("api/analyze", body: String(repeating: " ", count: 70_000))
        XCTAssertEqual(status, 413)
        (status, _) = try await post("api/generations/999/cancel", body: "")
        XCTAssertEqual(status, 404)
    }
}
