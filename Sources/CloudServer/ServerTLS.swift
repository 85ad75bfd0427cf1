import Foundation
import NIOSSL

/// TLS terminated in the server process (`obclip serve --tls-cert FILE --tls-key FILE`): the
/// certificate chain and private key, read and checked when the server is configured, so a
/// wrong file is an error at start rather than a failed handshake per client.
///
/// TLS 1.2 is the oldest version offered (NIO SSL's server default would also accept 1.0 and
/// 1.1, which no current client needs). The handshake runs under the server's idle time-out: a
/// peer that connects and never finishes it is closed like a slow-header client; a peer that
/// speaks plain HTTP to the TLS port fails the handshake and is disconnected.
public struct ServerTLS: Sendable {
    /// What NIO SSL's channel handler is built from.
    public let configuration: TLSConfiguration
    /// The leaf certificate's file, for the start-up log line.
    public let certificateFile: String

    /// Reads `certificateFile` (PEM: the server's certificate first, then any intermediates) and
    /// `keyFile` (PEM private key), and checks that the key belongs to the certificate.
    public init(certificateFile: String, keyFile: String) throws(ServerTLSError) {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw Self.unreadable(certificateFile, "a PEM certificate chain", error)
        }
        guard !chain.isEmpty else { throw .invalid(path: certificateFile, reason: "holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw Self.unreadable(keyFile, "a PEM private key", error)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // BoringSSL refuses a key that does not match the leaf certificate when a context is made.
        do { _ = try NIOSSLContext(configuration: configuration) } catch {
            throw .invalid(path: keyFile, reason: "is not the private key of the certificate in \(certificateFile) (\(error))")
        }
        self.configuration = configuration
        self.certificateFile = certificateFile
    }

    private static func unreadable(_ path: String, _ what: String, _ error: Error) -> ServerTLSError {
        FileManager.default.isReadableFile(atPath: path)
            ? .invalid(path: path, reason: "is not \(what) (\(error))")
            : .invalid(path: path, reason: "cannot be read")
    }
}

/// A certificate or key file the server cannot use, naming the file.
public enum ServerTLSError: Error, CustomStringConvertible {
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(path, reason): "TLS: \(path) \(reason)"
        }
    }
}
