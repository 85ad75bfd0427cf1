import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import CloudServer

/// A real HTTP/1.1 listener on 127.0.0.1 that answers every request with scripted raw bytes:
/// the hostile or broken server a device may meet. Written on plain sockets, not an HTTP
/// framework, so it can send what no well-behaved framework would (a short body under a long
/// `Content-Length`, a body dripped byte by byte, a connection cut mid-answer).
final class HostileHTTPServer: @unchecked Sendable {
    /// One thing the server does on a connection after reading the request.
    enum Step {
        case send(Data)
        /// Sends the bytes in pieces of `chunk` bytes with `pause` between them.
        case drip(Data, chunk: Int, pause: Duration)
        case pause(Duration)
    }

    let port: Int
    private let listener: Int32
    private let script: @Sendable (_ requestBody: Data) -> [Step]
    private let lock = NSLock()
    private var requestCount = 0

    /// Starts listening; `script` gets each request's body and returns what to answer.
    init(script: @escaping @Sendable (_ requestBody: Data) -> [Step]) throws {
        self.script = script
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listener, raw, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, raw, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Requests read so far.
    var requests: Int { lock.withLock { requestCount } }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Stops accepting (connections in progress finish their script).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        guard let body = readRequest(connection) else { return }
        lock.withLock { requestCount += 1 }
        for step in script(body) {
            switch step {
            case .send(let data):
                guard write(data, to: connection) else { return }
            case let .drip(data, chunk, pause):
                var offset = 0
                while offset < data.count {
                    let end = min(data.count, offset + chunk)
                    guard write(data[offset..<end], to: connection) else { return }
                    offset = end
                    Thread.sleep(forTimeInterval: pause.seconds)
                }
            case .pause(let duration):
                Thread.sleep(forTimeInterval: duration.seconds)
            }
        }
    }

    /// Reads one request's head and `Content-Length` body; nil when the peer went away.
    private func readRequest(_ connection: Int32) -> Data? {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator = Data("\r\n\r\n".utf8)
        var headEnd: Int?
        var bodyLength = 0
        while true {
            if headEnd == nil, let range = received.range(of: separator) {
                headEnd = range.upperBound
                let head = String(decoding: received[..<range.lowerBound], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headEnd, received.count - headEnd >= bodyLength {
                return received.subdata(in: headEnd..<(headEnd + bodyLength))
            }
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            received.append(contentsOf: buffer[0..<count])
        }
    }

    private func write(_ data: Data, to connection: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }

    /// A complete HTTP/1.1 response with `Content-Length` (unless `length` overrides it).
    static func response(status: Int = 200, headers: [String: String] = [:], body: Data, length: Int? = nil) -> Data {
        var head = "HTTP/1.1 \(status) Scripted\r\nContent-Length: \(length ?? body.count)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        return Data((head + "\r\n").utf8) + body
    }
}
