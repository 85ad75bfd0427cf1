import Foundation
import NIOSSL

/// A private certificate authority the device trusts for its server's HTTPS certificate
/// (`--ca-file` on `obclip generate` and `obclip ui`): a server that terminates TLS with a
/// certificate from its own CA, not one the system trusts.
///
/// With a CA given, it is the only root trusted for that server (as `curl --cacert` does): the
/// device talks to the one server its user configured, and a certificate from any other
/// authority for that name is refused. TLS 1.2 is the oldest version accepted either way.
public struct CertificateAuthority: Sendable {
    /// The CA certificates read from the file.
    public let certificates: [NIOSSLCertificate]
    /// The file they came from, for messages.
    public let file: String

    /// Reads `pemFile` (one or more PEM certificates), so a wrong file is an error at start,
    /// naming the file, rather than a failed handshake later.
    public init(pemFile: String) throws(CertificateAuthorityError) {
        guard FileManager.default.isReadableFile(atPath: pemFile) else { throw .unusable(path: pemFile, reason: "cannot be read") }
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(pemFile) } catch {
            throw .unusable(path: pemFile, reason: "is not a PEM certificate (\(error))")
        }
        guard !certificates.isEmpty else { throw .unusable(path: pemFile, reason: "holds no PEM certificate") }
        self.certificates = certificates
        self.file = pemFile
    }

    /// The client TLS settings for a server signed by `authority`, or by the system's roots when nil.
    static func tlsConfiguration(trusting authority: CertificateAuthority?) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let authority { configuration.trustRoots = .certificates(authority.certificates) }
        return configuration
    }
}

/// A CA file the device cannot use, naming the file.
public enum CertificateAuthorityError: Error, CustomStringConvertible {
    case unusable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unusable(path, reason): "CA file \(path) \(reason)"
        }
    }
}
