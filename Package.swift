// swift-tools-version:6.0
import PackageDescription

// Hot kernels are C with per-function target attributes so one binary uses AVX2+FMA where the
// CPU has it and portable C elsewhere (chosen at run time). Optimise them even in
// debug builds: the test suite runs real model forwards.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=off"])]

let package = Package(
    name: "obclip",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "obclip", targets: ["obclip"]),
        .library(name: "Diffusion", targets: ["Diffusion"]),
        .library(name: "Privacy", targets: ["Privacy"]),
        .library(name: "PortraitWorld", targets: ["PortraitWorld"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // Already a dependency of Hummingbird; named for the write-timeout channel handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        // Already a dependency of Hummingbird; named for loading and checking the TLS certificate and key.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.0.0"),
        // The device's HTTP client: streamed bodies, connect/read time-outs, real cancellation.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(name: "CKernels", cSettings: kernelFlags),
        .target(name: "TensorCore", dependencies: ["CKernels"]),
        .target(name: "SafeTensors"),
        // Plain setting values the engine, the wire and the device share (no dependencies, so the
        // protocol need not import the engine to carry them).
        .target(name: "SharedSettings"),
        // Debian's libpng (libpng-dev, installed by scripts/setup.sh) writes the PNGs; PNGWriter
        // is the C frame its longjmp error handling needs.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "PNGWriter", dependencies: ["CPNG"]),
        .target(
            name: "Diffusion",
            dependencies: ["TensorCore", "SafeTensors", "SharedSettings", "PNGWriter"],
            resources: [.copy("Resources")]
        ),
        // The privacy engine re-reads every candidate (closure check) on each prompt; optimise it
        // even in debug builds so the client and the invariant tests stay fast.
        .target(name: "Privacy", resources: [.copy("Resources")], swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "WireProtocol", dependencies: ["SafeTensors", "SharedSettings"]),
        // Rendering and checking walk every pixel; optimise even in debug builds so the world's
        // tests and `obclip world` stay fast.
        .target(name: "PortraitWorld", dependencies: ["TensorCore"], swiftSettings: [.unsafeFlags(["-O"])]),
        .target(
            name: "CloudServer",
            dependencies: [
                "WireProtocol", "Diffusion", "TensorCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                // TLS terminated in process (`--tls-cert`/`--tls-key`): swift-nio-ssl, which builds BoringSSL.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "DeviceClient",
            dependencies: [
                "WireProtocol", "Diffusion", "Privacy", "TensorCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Replicas of `obclip serve` as child processes behind nginx on loopback (the scale-out
        // test and `obclip bench scale`); talks to them over HTTP only, as devices do.
        .target(name: "LoopbackFleet", dependencies: ["DeviceClient", "WireProtocol"]),
        // `obclip ui`: the browser page (static files as resources, no build step) over DeviceClient.
        .target(
            name: "DeviceUI",
            dependencies: [
                "DeviceClient", "Privacy", "Diffusion", "WireProtocol", "TensorCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "obclip",
            dependencies: [
                "Diffusion", "Privacy", "TensorCore", "SafeTensors", "WireProtocol", "CloudServer", "DeviceClient",
                "DeviceUI", "PortraitWorld", "LoopbackFleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "PrivacyTests", dependencies: ["Privacy"], exclude: ["Data"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "PortraitWorldTests", dependencies: ["PortraitWorld", "Privacy"]),
        .testTarget(name: "WireProtocolTests", dependencies: ["WireProtocol", "SafeTensors"]),
        .testTarget(
            name: "NetworkTests",
            dependencies: [
                "CloudServer", "DeviceClient", "WireProtocol", "Diffusion", "TensorCore", "LoopbackFleet", "SafeTensors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Drives the `obclip` executable's `ui --demo` in a headless Chromium (found on PATH).
        .testTarget(name: "DeviceUITests", dependencies: ["PortraitWorld", "DeviceClient"]),
        .testTarget(
            name: "DiffusionTests",
            dependencies: ["Diffusion", "TensorCore", "SafeTensors", "SharedSettings", "CPNG"],
            exclude: ["Fixtures"]
        ),
    ],
    // Kernels hand raw buffers to worker threads; Swift 5 mode keeps that free of Sendable noise.
    swiftLanguageModes: [.v5]
)
