import ArgumentParser
import DeviceClient

/// `--ca-file` on `generate` and `ui`: the private CA that signed an HTTPS server's
/// certificate (a server run with `obclip serve --tls-cert/--tls-key` and its own CA).
struct ServerTrustArguments: ParsableArguments {
    @Option(name: .customLong("ca-file"),
            help: "PEM certificate of the private CA that signed the HTTPS server's certificate; the only root trusted for it (default: the system's roots).")
    var caFile: String?

    /// The CA read from `--ca-file` (an unusable file is an error naming it), or nil.
    func authority() throws -> CertificateAuthority? {
        guard let caFile else { return nil }
        do { return try CertificateAuthority(pemFile: caFile) } catch { throw ValidationError(error.description) }
    }
}
