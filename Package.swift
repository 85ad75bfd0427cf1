// swift-tools-version:6.0
import PackageDescription

// Hot kernels are C with per-function target attributes so one binary runs on AVX2 machines and
// uses AVX-512 where present (the machines this project runs on differ). Optimise them even in
// debug builds: the test suite runs real model forwards.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=off"])]

let package = Package(
    name: "obclip",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "obclip", targets: ["obclip"]),
        .library(name: "Diffusion", targets: ["Diffusion"]),
        .library(name: "Privacy", targets: ["Privacy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CKernels", cSettings: kernelFlags),
        .target(name: "TensorCore", dependencies: ["CKernels"]),
        .target(name: "SafeTensors"),
        .target(
            name: "Diffusion",
            dependencies: ["TensorCore", "SafeTensors"],
            resources: [.copy("Resources")]
        ),
        .target(name: "Privacy"),
        .target(name: "WireProtocol", dependencies: ["SafeTensors"]),
        .executableTarget(
            name: "obclip",
            dependencies: [
                "Diffusion", "Privacy", "TensorCore", "SafeTensors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "WireProtocolTests", dependencies: ["WireProtocol"]),
        .testTarget(
            name: "DiffusionTests",
            dependencies: ["Diffusion", "TensorCore", "SafeTensors"],
            exclude: ["Fixtures"]
        ),
    ],
    // Kernels hand raw buffers to worker threads; Swift 5 mode keeps that free of Sendable noise.
    swiftLanguageModes: [.v5]
)
