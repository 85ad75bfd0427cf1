import DeviceClient
import Diffusion
import Foundation
import Hummingbird
import Privacy
import TensorCore
import WireProtocol

/// The HTTP side of `obclip ui`: the page, the privacy analysis, generations with their
/// progress as server-sent events, cancel, images, reports and the in-memory gallery.
///
/// Every endpoint checks its input as the cloud server does (size, content type, JSON shape,
/// every setting by name) and answers a problem as `{"error": {"field", "message"}}`. The UI
/// listens on loopback only and answers only requests addressed to a loopback name, so a web
/// page elsewhere cannot reach it through DNS rebinding or a cross-site form.
public struct DeviceUIService: Sendable {
    public let configuration: DeviceUIConfiguration
    let engines: PrivacyEngines
    let models: DeviceModelCache
    let tokenizer: CLIPTokenizer
    let jobs = DeviceJobs()
    let cost: ServerCostCounter?
    let assets: StaticAssets

    /// Bodies the UI accepts: a prompt and a settings form are far smaller.
    static let maxBodyBytes = 64 * 1024
    /// Longest prompt the analysis reads (the server's 77-token limit comes later).
    static let maxPromptCharacters = 2000

    /// Loads the page, the privacy engines and the fp32 device models (whose tokenizer checks
    /// prompt lengths), so problems show before the URL is printed.
    public init(configuration: DeviceUIConfiguration) async throws {
        self.configuration = configuration
        engines = try PrivacyEngines()
        models = DeviceModelCache(source: configuration.deviceModels)
        tokenizer = try await models.models(at: .fp32).tokenizer
        cost = configuration.costCounting.map(ServerCostCounter.init)
        assets = try StaticAssets()
    }

    func tokenCount(_ text: String) -> Int { tokenizer.tokens(text).count + 2 }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(LoopbackOnly())
        for (path, asset) in assets.files {
            router.get(RouterPath(path)) { _, _ in asset.response() }
        }
        router.get("api/config") { _, _ in try json(pageConfiguration) }
        router.post("api/analyze") { request, _ in
            await answer {
                let body = try await PromptForm.read(request)
                return try json(try await analyze(body))
            }
        }
        router.post("api/generations") { request, _ in
            await answer {
                let body = try await PromptForm.read(request)
                let job = try await submit(body)
                return try json(JobLinks(id: job.id), status: .accepted)
            }
        }
        router.get("api/generations/:id/events") { _, context in
            await answer { events(of: try await job(context)) }
        }
        router.post("api/generations/:id/cancel") { _, context in
            await answer {
                let job = try await job(context)
                let cancelled = job.cancel()
                return try json(CancelAnswer(id: job.id, cancelled: cancelled, state: job.latest?.kind.rawValue ?? "queued"))
            }
        }
        router.get("api/generations/:id/image.png") { _, context in
            await answer {
                let result = try await finished(context)
                var headers = HTTPFields()
                headers[.contentType] = "image/png"
                headers[.cacheControl] = "no-store"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: result.png)))
            }
        }
        router.get("api/generations/:id/report.json") { _, context in
            await answer {
                let job = try await job(context)
                guard let result = job.finished else { throw notFound("generation \(job.id) has no report (it has not finished)") }
                var response = try json(result.report, pretty: true)
                response.headers[.contentDisposition] = "attachment; filename=\"obclip-\(job.id).json\""
                return response
            }
        }
        router.get("api/gallery") { _, _ in
            try json(await jobs.finished().compactMap(GalleryEntry.init))
        }
        return router
    }

    // MARK: Endpoints

    private var pageConfiguration: PageConfiguration {
        PageConfiguration(
            defaults: configuration.defaultSettings, local: configuration.local, demo: configuration.demo,
            deviceModel: configuration.deviceModels.description, costModel: cost?.model,
            modes: GenerationMode.allCases.map(\.rawValue), schedulers: SchedulerKind.allCases.map(\.rawValue),
            accelerations: GenerationChoices.accelerationNames, precisions: Precision.allCases.map(\.rawValue),
            taxonomies: Taxonomy.bundledNames)
    }

    private func analyze(_ form: PromptForm) async throws -> PrivacyAnalysis {
        do {
            return try await PrivacyAnalysis.make(prompt: form.prompt, settings: form.settings, engine: engines,
                                                  tokenCount: tokenCount, cost: cost)
        } catch let error as PrivacyError {
            throw UIProblem(field: "prompt", message: error.description)
        }
    }

    private func submit(_ form: PromptForm) async throws -> GenerationJob {
        var checking: CheckedSettings
        do { checking = try form.settings.checked(tokenCount: tokenCount) } catch let error as ChoiceError {
            throw UIProblem(field: error.field, message: error.message)
        }
        checking.cloud?.trust = configuration.trust
        let checked = checking
        // The request the generation will send, checked as the server will check it.
        let set: CandidateSet
        do { set = try engines.obfuscator(checked.taxonomy).obfuscate(form.prompt) } catch let error as PrivacyError {
            throw UIProblem(field: "prompt", message: error.description)
        }
        if checked.subset != nil, !checked.mode.isPrivate {
            throw UIProblem(field: "dpSubset", message: "the DP subset mode subsamples a candidate set; mode \(checked.mode.rawValue) sends none")
        }
        var request = checked.mode.cloudRequest(for: set, seed: 0, settings: checked.generation)
        if let mechanism = checked.subset {
            // The generation draws its own subset; this one only sizes the request for the checks.
            do { request?.candidates = try mechanism.select(from: set, randomness: .system).candidates } catch let error as PrivacyError {
                throw UIProblem(field: "dpSubsetSize", message: error.description)
            }
        }
        if let request {
            do { try UISettings.check(request, tokenCount: tokenCount) } catch let error as ChoiceError {
                throw UIProblem(field: error.field, message: error.message)
            }
        }
        let models = self.models, engines = self.engines
        return await jobs.submit(prompt: form.prompt, settings: form.settings) { job in
            await Self.run(job, checked: checked, models: models, engines: engines)
        }
    }

    /// One generation through the client's own code path (`HybridGenerator`, as `obclip generate`).
    private static func run(_ job: GenerationJob, checked: CheckedSettings, models: DeviceModelCache, engines: PrivacyEngines) async {
        let total = checked.generation.steps
        do {
            if await !models.isLoaded(checked.precision) {
                job.record(ProgressUpdate(kind: .preparing, label: "loading the device model at \(checked.precision.rawValue)", fraction: 0, elapsed: job.elapsed))
            }
            let device = try await models.models(at: checked.precision)
            let generator = HybridGenerator(obfuscator: try engines.obfuscator(checked.taxonomy), device: device, cloud: checked.cloud)
            let outcome = try await generator.generate(prompt: job.prompt, mode: checked.mode, settings: checked.generation,
                                                       seed: checked.seed ?? GenerationSettings.freshSeed(), subset: checked.subset) { event in
                job.record(ProgressUpdate.reading(event, totalSteps: total, elapsed: job.elapsed))
            }
            let png = try PNGEncoder.encode(outcome.image.slice(0, 1))
            job.record(ProgressUpdate(kind: .done, label: "done", fraction: 1, elapsed: job.elapsed),
                       result: GenerationJob.Result(png: png, report: outcome.report))
        } catch is CancellationError {
            job.record(ProgressUpdate(kind: .cancelled, label: "cancelled", fraction: nil, elapsed: job.elapsed))
        } catch {
            job.record(ProgressUpdate(kind: .failed, label: "\(error)", fraction: nil, elapsed: job.elapsed))
        }
    }

    /// The job's updates as server-sent events: every update so far, then live ones; the
    /// stream ends with the job (a browser that goes away ends it early).
    private func events(of job: GenerationJob) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let encoder = JSONEncoder()
            for await update in job.subscribe() {
                let data = String(decoding: try encoder.encode(update), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: \(update.kind.rawValue)\ndata: \(data)\n\n"))
            }
            try await writer.finish(nil)
        })
    }

    private func job(_ context: BasicRequestContext) async throws -> GenerationJob {
        guard let id = context.parameters.get("id", as: Int.self) else { throw notFound("a generation id is a whole number") }
        guard let job = await jobs.job(id) else { throw notFound("no generation \(id) since this UI started") }
        return job
    }

    private func finished(_ context: BasicRequestContext) async throws -> GenerationJob.Result {
        let job = try await job(context)
        guard let result = job.finished else { throw notFound("generation \(job.id) has no image (it has not finished)") }
        return result
    }
}
