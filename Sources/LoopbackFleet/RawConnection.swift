import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port, for clients no HTTP library would be: ones that
/// stop mid-body, drip their header, or never read the answer.
public final class RawConnection {
    private let socketFD: Int32

    /// Connects to 127.0.0.1:`port`, with `receiveTimeout` on reads. `receiveBuffer` shrinks
    /// the socket's receive buffer (a slow reader's window).
    public init(port: Int, receiveTimeout: Double = 10, receiveBuffer: Int? = nil) throws {
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw FleetError.connection("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1e6))
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(socketFD, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socketFD)
            throw FleetError.connection("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(socketFD) }

    /// Sends all of `data`; false once the peer has closed.
    @discardableResult
    public func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(socketFD, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }

    /// Sends `data` one byte every `pause` seconds for at most `seconds`; true when the peer
    /// closed the connection meanwhile.
    public func drip(_ data: Data, pause: Double, for seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        for byte in data where Date() < deadline {
            guard send(Data([byte])) else { return true }
            Thread.sleep(forTimeInterval: pause)
        }
        return false
    }

    /// Reads what has arrived (up to `limit` bytes): empty at end of stream, nil on time-out or error.
    public func receive(limit: Int = 65536) -> Data? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = recv(socketFD, &buffer, limit, 0)
        if count < 0 { return nil }
        return Data(buffer[0..<count])
    }

    /// Whether bytes have arrived that were not read yet (nothing is consumed).
    public var hasBytesWaiting: Bool {
        var byte: UInt8 = 0
        return recv(socketFD, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0
    }

    /// Whether a process holds the other end of this loopback connection: the kernel's
    /// `/proc/net/tcp` entry for that end has a socket inode. An end its server closed is an
    /// orphan (inode 0) while the kernel still sends what was queued; an end not yet accepted has
    /// none either. This asks about the one connection, where counting a process's descriptors
    /// would also count what it opens meanwhile (libdispatch's per-clock timer descriptors, NIO's
    /// event loops).
    public var peerHoldsConnection: Bool {
        // Read to the end: `String(contentsOfFile:)` stops after the first 4 KiB of a /proc file
        // (about 27 connections), which a test process with many sockets outgrows.
        guard let file = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return false }
        defer { try? file.close() }
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        let (local, remote) = (address(getsockname), address(getpeername))
        for line in table.split(separator: "\n").dropFirst() {
            // sl, local_address, rem_address, st, tx:rx queues, tr:when, retrnsmt, uid, timeout, inode
            let fields = line.split(separator: " ")
            if fields.count > 9, fields[1] == remote, fields[2] == local { return fields[9] != "0" }
        }
        return false
    }

    /// This socket's own (`getsockname`) or its peer's (`getpeername`) IPv4 address as
    /// `/proc/net/tcp` prints it: the address word and the port in hexadecimal.
    private func address(_ query: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> Substring {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { query(socketFD, $0, &length) } }
        return Substring(String(format: "%08X:%04X", address.sin_addr.s_addr, UInt16(bigEndian: address.sin_port)))
    }

    /// Reads until the peer closes (true) or a read times out (false); drops the bytes.
    public func readsToEnd() -> Bool {
        while let chunk = receive() {
            if chunk.isEmpty { return true }
        }
        return errno == ECONNRESET
    }

    /// The HTTP head of a POST to /v1/generate announcing `length` body bytes.
    public static func postHead(length: Int) -> Data {
        Data("POST /v1/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n".utf8)
    }
}
