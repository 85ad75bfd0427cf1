import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// nginx in front of replicas on loopback, configured from the deployment's own files:
/// `deploy/nginx/obclip-http.conf` with its `server` lines replaced by the replicas' ports, and
/// `deploy/nginx/obclip-locations.conf` included unchanged. Only the main context (paths,
/// one worker, the loopback listener) is written here; TLS is left to the production site.
public final class NginxBalancer: @unchecked Sendable {
    public let port: Int
    public let workDirectory: URL
    public let process: ChildProcess

    private init(port: Int, workDirectory: URL, process: ChildProcess) {
        self.port = port
        self.workDirectory = workDirectory
        self.process = process
    }

    /// `http://127.0.0.1:PORT`.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Renders the configuration into `workDirectory`, checks it with `nginx -t`, starts nginx
    /// in the foreground and returns once it forwards `/healthz` to a replica.
    public static func start(nginx: String, replicaPorts: [Int], port: Int, deployDirectory: URL, workDirectory: URL,
                             lifetime: Int) async throws -> NginxBalancer {
        let nginxDirectory = deployDirectory.appendingPathComponent("nginx")
        let httpTemplate = nginxDirectory.appendingPathComponent("obclip-http.conf")
        let locations = nginxDirectory.appendingPathComponent("obclip-locations.conf")
        let template: String
        do { template = try String(contentsOf: httpTemplate, encoding: .utf8) } catch {
            throw FleetError.badTemplate(path: httpTemplate.path, reason: "\(error)")
        }
        let http = try renderUpstream(template, ports: replicaPorts, path: httpTemplate.path)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let work = workDirectory.path
        try http.write(to: workDirectory.appendingPathComponent("obclip-http.conf"), atomically: true, encoding: .utf8)
        let main = """
            # Generated for a loopback fleet: the main context only; the rest is deploy/nginx.
            \(geteuid() == 0 ? "user root root;" : "")
            worker_processes 1;
            daemon off;
            pid \(work)/nginx.pid;
            error_log \(work)/error.log notice;
            events { worker_connections 512; }
            http {
                client_body_temp_path \(work)/client_body;
                proxy_temp_path \(work)/proxy;
                fastcgi_temp_path \(work)/fastcgi;
                uwsgi_temp_path \(work)/uwsgi;
                scgi_temp_path \(work)/scgi;
                include \(work)/obclip-http.conf;
                access_log \(work)/access.log obclip_balancer;
                server {
                    listen 127.0.0.1:\(port);
                    include \(locations.path);
                }
            }

            """
        let configuration = workDirectory.appendingPathComponent("nginx.conf")
        try main.write(to: configuration, atomically: true, encoding: .utf8)
        let arguments = ["-p", work, "-c", configuration.path, "-e", "\(work)/error.log"]

        let check = try ChildProcess(executable: nginx, arguments: ["-t", "-q"] + arguments,
                                     logFile: workDirectory.appendingPathComponent("nginx-t.log"), lifetime: 30)
        await check.waitForExit(seconds: 30)
        guard check.exitedSuccessfully else {
            throw FleetError.badTemplate(path: configuration.path, reason: "nginx -t failed:\n\(check.log)")
        }
        let process = try ChildProcess(executable: nginx, arguments: arguments,
                                       logFile: workDirectory.appendingPathComponent("nginx.out"), lifetime: lifetime)
        let balancer = NginxBalancer(port: port, workDirectory: workDirectory, process: process)
        do {
            try await LoopbackHTTP.waitUntilOK(balancer.url.appendingPathComponent("healthz"), process: process, seconds: 20,
                                               what: "nginx on port \(port)")
        } catch {
            await process.killNow()
            throw error
        }
        return balancer
    }

    /// The `upstream` template with its first `server` line repeated once per port (same
    /// parameters) and its other `server` lines dropped; every other line is kept.
    static func renderUpstream(_ template: String, ports: [Int], path: String) throws -> String {
        var lines: [String] = []
        var rendered = false
        for line in template.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("server "), trimmed.hasSuffix(";") else {
                lines.append(line)
                continue
            }
            if rendered { continue }
            let words = trimmed.dropLast().split(separator: " ")
            let indent = String(line.prefix { $0 == " " })
            let parameters = words.dropFirst(2).joined(separator: " ")
            lines += ports.map { "\(indent)server 127.0.0.1:\($0)\(parameters.isEmpty ? "" : " " + parameters);" }
            rendered = true
        }
        guard rendered else { throw FleetError.badTemplate(path: path, reason: "no `server` line in the upstream block") }
        return lines.joined(separator: "\n")
    }

    /// Lines of the access log (format `obclip_balancer`: one line per client request, with
    /// every replica it was sent to).
    public func accessLog() -> [String] {
        let text = (try? String(contentsOf: workDirectory.appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Graceful stop (SIGQUIT would wait for keep-alive clients; SIGTERM is nginx's fast stop).
    public func stop() async { await process.stop(grace: 5) }
}
