import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import ServiceLifecycle
import UnixSignals

/// A cloud server listening in this process: started by `obclip serve`, `obclip demo` and the
/// loopback tests.
///
/// Shutdown drains: the queue stops admitting (new generations and `/readyz` get 503 with
/// `Retry-After`, so a load balancer moves traffic away) while the listener stays up and admitted
/// requests finish; at the drain deadline whatever is still admitted is answered 503; then the
/// listener closes and `run` returns.
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
    /// and SIGTERM start the draining shutdown.
    public static func start(_ service: CloudService, handleSignals: Bool = false) async throws -> RunningCloudServer {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let settings = service.settings
        let http: HTTPServerBuilder = .http1(configuration: .init(additionalChannelHandlers: [WriteTimeoutHandler(timeout: settings.writeTimeout)],
                                                                  idleTimeout: .nanoseconds(Int64(settings.idleTimeout.seconds * 1e9))))
        let app = Application(
            router: service.makeRouter(),
            server: try settings.tls.map { try .tls(http, tlsConfiguration: $0.configuration) } ?? http,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "obclip"),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? settings.port) },
            logger: service.logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: service.logger))
        let task = Task {
            defer { portSink.finish() }
            try await group.run()
        }
        for await port in ports {
            service.logger.info("listening", metadata: ["host": "\(settings.host)", "port": "\(port)",
                                                       "authentication": "\(service.access.requiresAuthentication)",
                                                       "tls": "\(settings.tls?.certificateFile ?? "off")"])
            let server = RunningCloudServer(port: port, service: service, group: group, task: task)
            if handleSignals {
                Task {
                    for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                        service.logger.notice("signal received; draining", metadata: ["signal": "\(signal)"])
                        try? await server.shutdown()
                        break
                    }
                }
            }
            return server
        }
        // The group ended before the listener came up: surface its error (e.g. address in use).
        try await task.value
        throw ServerStartError(host: settings.host, port: settings.port)
    }

    /// Drains (see the type's documentation) for at most the settings' `drainTimeout`, then
    /// stops listening and waits until the server is down.
    public func shutdown() async throws {
        let queue = service.queue
        let started = ContinuousClock.now
        await queue.beginDraining()
        let admitted = await queue.depth
        service.logger.notice("draining", metadata: ["admitted": "\(admitted)",
                                                     "deadlineSeconds": "\(service.settings.drainTimeout.seconds)"])
        let deadline = started + service.settings.drainTimeout
        while await queue.depth > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let abandoned = await queue.abandonAll()
        service.logger.notice("drained", metadata: ["seconds": "\((ContinuousClock.now - started).seconds)",
                                                    "abandonedAtDeadline": "\(abandoned)"])
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
