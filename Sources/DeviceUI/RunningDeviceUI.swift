import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// The UI listening on 127.0.0.1 in this process (started by `obclip ui`).
public final class RunningDeviceUI: Sendable {
    /// The bound port (useful when the configuration asked for port 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    /// Where the page is.
    public var url: String { "http://127.0.0.1:\(port)/" }

    private init(port: Int, group: ServiceGroup, task: Task<Void, Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Binds 127.0.0.1 and starts serving; returns once the listener is up. With
    /// `handleSignals`, SIGINT and SIGTERM stop it.
    public static func start(_ service: DeviceUIService, logger: Logger, handleSignals: Bool = false) async throws -> RunningDeviceUI {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: service.makeRouter(),
            configuration: .init(address: .hostname("127.0.0.1", port: service.configuration.port), serverName: "obclip-ui"),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? service.configuration.port) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
        let task = Task {
            defer { portSink.finish() }
            try await group.run()
        }
        for await port in ports { return RunningDeviceUI(port: port, group: group, task: task) }
        try await task.value
        throw DeviceUIStartError(port: service.configuration.port)
    }

    public func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Waits until the UI stops (after a signal or `shutdown()`).
    public func waitUntilStopped() async throws { try await task.value }
}

/// The listener never came up.
public struct DeviceUIStartError: Error, CustomStringConvertible {
    public let port: Int
    public var description: String { "the UI on 127.0.0.1:\(port) stopped before it started listening" }
}
