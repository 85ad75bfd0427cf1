import Foundation

/// N `obclip serve` replicas and nginx in front of them, all on loopback: the deployment of
/// `deploy/` run on one machine, for the scale-out test and `obclip bench scale`.
public final class ReplicaFleet: @unchecked Sendable {
    public let replicas: [Replica]
    public let balancer: NginxBalancer

    private init(replicas: [Replica], balancer: NginxBalancer) {
        self.replicas = replicas
        self.balancer = balancer
    }

    /// The balancer's address: what clients use.
    public var url: URL { balancer.url }

    /// Starts `count` replicas on free loopback ports (together, each until healthy) and nginx
    /// in front of them. On any failure everything started so far is stopped.
    public static func start(count: Int, launch: ReplicaLaunch, nginx: String, deployDirectory: URL = FleetPaths.deployDirectory,
                             workDirectory: URL) async throws -> ReplicaFleet {
        let ports = try FreePort.loopback(count + 1)
        let replicas = ports.dropLast().map { Replica(port: $0, launch: launch) }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for replica in replicas { group.addTask { try await replica.start() } }
                try await group.waitForAll()
            }
            let balancer = try await NginxBalancer.start(
                nginx: nginx, replicaPorts: replicas.map(\.port), port: ports.last!, deployDirectory: deployDirectory,
                workDirectory: workDirectory.appendingPathComponent("nginx"), lifetime: launch.lifetime)
            return ReplicaFleet(replicas: replicas, balancer: balancer)
        } catch {
            for replica in replicas { await replica.kill() }
            throw error
        }
    }

    /// Requests each running replica has answered with 200 (nil for one that does not answer).
    public func servedRequests() async -> [Int?] {
        var counts: [Int?] = []
        for replica in replicas { counts.append(await replica.servedRequests()) }
        return counts
    }

    /// Stops nginx, then drains and stops every replica.
    public func stop() async {
        await balancer.stop()
        for replica in replicas { await replica.stop() }
    }
}

/// Where the fleet finds its programs and the deployment files.
public enum FleetPaths {
    /// `deploy/` of the checkout this code was built from (the files the fleet runs are the
    /// files that are deployed).
    public static var deployDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy", isDirectory: true)
    }

    /// `Models/demo-server` of the same checkout: a small real model every replica can load.
    public static var demoServerModel: URL {
        deployDirectory.deletingLastPathComponent().appendingPathComponent("Models/demo-server", isDirectory: true)
    }

    /// The nginx executable on `PATH` or in `/usr/sbin` (Debian's place), or nil.
    public static func nginx() -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return path.map { "\($0)/nginx" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// An executable built next to the running one (`obclip` beside the test bundle or beside
    /// itself), or nil.
    public static func sibling(_ name: String) -> String? {
        guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let candidate = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }
}
