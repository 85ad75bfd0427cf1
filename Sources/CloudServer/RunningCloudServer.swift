import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// A cloud server listening in this process: started by `obclip serve`, `obclip demo` and the
/// loopback tests. Shutdown is graceful: the listener closes, queued and running generations
/// finish and are answered, then `run` returns.
public final class RunningCloudServer: Sendable {
    /// The bound port (useful when the settings asked for port 0).
    public let port: Int
    public let service: CloudService
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    private init(port: Int, service: CloudService, group: ServiceGroup, task: Task<Void, Error>) {
        self.port = port
        self.service = service
        self.group = group
        self.task = task
    }

    /// Binds and starts serving; returns once the listener is up. With `handleSignals`, SIGINT
    /// and SIGTERM trigger a graceful shutdown.
    public static func start(_ service: CloudService, handleSignals: Bool = false) async throws -> RunningCloudServer {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: service.makeRouter(),
            configuration: .init(address: .hostname(service.settings.host, port: service.settings.port), serverName: "obclip"),
            services: [QueueDrain(queue: service.queue)],
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? service.settings.port) },
            logger: service.logger)
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: service.logger))
        let task = Task {
            defer { portSink.finish() }
            try await group.run()
        }
        for await port in ports {
            service.logger.info("listening", metadata: ["host": "\(service.settings.host)", "port": "\(port)",
                                                       "authentication": "\(service.access.requiresAuthentication)"])
            return RunningCloudServer(port: port, service: service, group: group, task: task)
        }
        // The group ended before the listener came up: surface its error (e.g. address in use).
        try await task.value
        throw ServerStartError(host: service.settings.host, port: service.settings.port)
    }

    /// Stops accepting work, lets admitted requests finish, and waits until the server is down.
    public func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Waits until the server stops (after a signal or `shutdown()`).
    public func waitUntilStopped() async throws {
        try await task.value
    }
}

/// The listener never came up.
public struct ServerStartError: Error, CustomStringConvertible {
    public let host: String
    public let port: Int
    public var description: String { "server on \(host):\(port) stopped before it started listening" }
}

/// On graceful shutdown, stops the queue admitting requests and waits for admitted ones.
private struct QueueDrain: Service {
    let queue: GenerationQueue

    func run() async throws {
        try? await gracefulShutdown()
        await queue.beginDraining()
        await queue.waitUntilIdle()
    }
}
