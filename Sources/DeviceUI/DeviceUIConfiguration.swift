import DeviceClient

/// What `obclip ui` starts the page with.
public struct DeviceUIConfiguration: Sendable {
    /// Port on 127.0.0.1 (0: any free one). The UI never listens on another address.
    public var port: Int
    /// The form's initial values (server URL, token, size, …).
    public var defaultSettings: UISettings
    /// Device-only by default: the page offers no server.
    public var local: Bool
    /// A demo server runs in this process (the page says so).
    public var demo: Bool
    public var deviceModels: DeviceModelSource
    /// Counts the server's cost for the estimate; nil shows none.
    public var costCounting: (any ServerCostCounting)?
    /// The private CA an HTTPS server's certificate is checked against (`--ca-file`), for
    /// whatever server the form names; nil trusts the system's roots.
    public var trust: CertificateAuthority?

    public init(port: Int, defaultSettings: UISettings, local: Bool, demo: Bool, deviceModels: DeviceModelSource,
                costCounting: (any ServerCostCounting)?, trust: CertificateAuthority? = nil) {
        self.port = port
        self.defaultSettings = defaultSettings
        self.local = local
        self.demo = demo
        self.deviceModels = deviceModels
        self.costCounting = costCounting
        self.trust = trust
    }
}
