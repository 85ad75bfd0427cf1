import Diffusion
import Foundation
import SafeTensors
import TensorCore
import XCTest

final class WeightStoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("weight-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(_ name: String, _ tensors: [String: [Int]], base: Float = 0) throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (key, shape) in tensors {
            let n = shape.reduce(1, *)
            try writer.add(key, shape: shape, scalars: (0..<n).map { base + Float($0) })
        }
        try writer.write(to: directory.appendingPathComponent(name))
    }

    func testLooksUpScopedTensorsAndBuildsLayers() throws {
        try write("diffusion_pytorch_model.safetensors", [
            "block.proj.weight": [3, 2], "block.proj.bias": [3],
            "block.conv.weight": [4, 2, 3, 3], "block.conv.bias": [4],
            "block.norm.weight": [2], "block.norm.bias": [2],
        ])
        let store = try WeightStore(directory: directory)
        XCTAssertTrue(store.contains("block.proj.weight"))
        XCTAssertFalse(store.contains("block.proj"))
        let block = store.scoped("block")
        XCTAssertTrue(block.contains("proj.bias"))
        XCTAssertEqual(block.keys, ["conv.bias", "conv.weight", "norm.bias", "norm.weight", "proj.bias", "proj.weight"])
        XCTAssertEqual(try block.tensor("proj.weight", shape: [3, 2]).scalars, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try store.scoped("block").scoped("proj").tensor("bias", shape: [3]).scalars, [0, 1, 2])

        let proj = try block.linear("proj", in: 2, out: 3)
        XCTAssertEqual(linear(Tensor(shape: [1, 2], scalars: [1, 1]), proj).scalars, [1, 6, 11])
        XCTAssertNil(try block.linear("proj", in: 2, out: 3, bias: false).bias)
        let conv = try block.conv2d("conv", in: 2, out: 4, kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual([conv.inChannels, conv.outChannels, conv.kernelSize, conv.stride, conv.padding], [2, 4, 3, 2, 1])
        let norm = try block.norm("norm", channels: 2)
        XCTAssertEqual(norm.weight.scalars, [0, 1])
    }

    func testPrecisionReachesEveryPackedWeightOfTheStore() throws {
        try write("model.safetensors", ["block.proj.weight": [3, 2], "block.proj.bias": [3],
                                        "block.conv.weight": [4, 2, 3, 3], "block.conv.bias": [4]])
        let block = try WeightStore(directory: directory, precision: .f16).scoped("block")
        XCTAssertEqual(block.precision, .f16, "scoping keeps the precision")
        XCTAssertEqual(try block.linear("proj", in: 2, out: 3).packed.precision, .f16)
        XCTAssertEqual(try block.packing(at: .bf16).linear("proj", in: 2, out: 3).packed.precision, .bf16)
        XCTAssertEqual(try WeightStore(directory: directory).scoped("block").linear("proj", in: 2, out: 3).packed.precision, .fp32)
        let conv = try block.conv2d("conv", in: 2, out: 4, kernel: 3)
        XCTAssertEqual(conv.precision, .f16)
        // Small integers are exact in f16, so the product is unchanged.
        XCTAssertEqual(linear(Tensor(shape: [1, 2], scalars: [1, 1]), try block.linear("proj", in: 2, out: 3)).scalars, [1, 6, 11])
    }

    func testMissingAndMisshapenTensorsNameFileAndKey() throws {
        try write("model.safetensors", ["a.weight": [2, 2]])
        let file = directory.appendingPathComponent("model.safetensors").path
        let store = try WeightStore(directory: directory).scoped("a")
        XCTAssertThrowsError(try store.tensor("bias", shape: [2])) { error in
            XCTAssertEqual(error as? LoadError, .missingTensor(key: "a.bias", sources: [file]))
            XCTAssertEqual("\(error)", "missing tensor 'a.bias' in \(file)")
        }
        XCTAssertThrowsError(try store.tensor("weight", shape: [2, 3])) { error in
            XCTAssertEqual(error as? LoadError, .shapeMismatch(key: "a.weight", source: file, expected: [2, 3], actual: [2, 2]))
            XCTAssertTrue("\(error)".contains(file) && "\(error)".contains("'a.weight'"))
        }
    }

    func testPrefersFullPrecisionFileThenFP16Variant() throws {
        try write("diffusion_pytorch_model.fp16.safetensors", ["w": [1]], base: 16)
        XCTAssertEqual(try WeightStore(directory: directory).tensor("w", shape: [1]).scalars, [16], "falls back to the fp16 variant")
        try write("diffusion_pytorch_model.safetensors", ["w": [1]], base: 32)
        XCTAssertEqual(try WeightStore(directory: directory).tensor("w", shape: [1]).scalars, [32])
    }

    func testShardsAreMergedAndDuplicatesRejected() throws {
        try write("model-00001-of-00002.safetensors", ["a": [1]], base: 1)
        try write("model-00002-of-00002.safetensors", ["b": [1]], base: 2)
        let store = try WeightStore(directory: directory)
        XCTAssertEqual(try store.tensor("a", shape: [1]).scalars, [1])
        XCTAssertEqual(try store.tensor("b", shape: [1]).scalars, [2])
        try write("model-00002-of-00002.safetensors", ["a": [1]], base: 2)
        XCTAssertThrowsError(try WeightStore(directory: directory)) { error in
            guard case .duplicateTensor(let key, _, _)? = error as? LoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "a")
        }
    }

    func testNoWeightsAndBrokenFilesAreReported() throws {
        XCTAssertThrowsError(try WeightStore(directory: directory)) { error in
            XCTAssertEqual(error as? LoadError, .noWeights(directory: self.directory.path))
        }
        XCTAssertThrowsError(try WeightStore(directory: directory.appendingPathComponent("absent"))) { error in
            XCTAssertTrue("\(error)".contains("absent"), "\(error)")
        }
        try Data([1, 2, 3]).write(to: directory.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try WeightStore(directory: directory)) { error in
            XCTAssertTrue(error is SafeTensorsError && "\(error)".contains("model.safetensors") && "\(error)".contains("truncated"), "\(error)")
        }
    }

    func testRandomWeightsAreDeterministicAndScaled() throws {
        let store = WeightStore.random(seed: 7)
        XCTAssertTrue(store.contains("anything.at.all"))
        let w = try store.scoped("layer").tensor("weight", shape: [256, 512])
        XCTAssertEqual(w.scalars, try WeightStore.random(seed: 7).tensor("layer.weight", shape: [256, 512]).scalars)
        XCTAssertNotEqual(w.scalars, try WeightStore.random(seed: 8).tensor("layer.weight", shape: [256, 512]).scalars)
        XCTAssertNotEqual(w.scalars, try store.tensor("other.weight", shape: [256, 512]).scalars)
        let mean = w.scalars.reduce(0, +) / Float(w.count)
        let variance = w.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)
        XCTAssertEqual(mean, 0, accuracy: 0.002)
        XCTAssertEqual(variance * 512, 1, accuracy: 0.02, "variance is 1/fan_in")
        let conv = try store.tensor("conv.weight", shape: [64, 32, 3, 3])
        let convVariance = conv.scalars.map { $0 * $0 }.reduce(0, +) / Float(conv.count)
        XCTAssertEqual(convVariance * 32 * 9, 1, accuracy: 0.05)
        XCTAssertEqual(try store.norm("norm", channels: 4).weight.scalars, [1, 1, 1, 1])
        XCTAssertEqual(try store.norm("norm", channels: 4).bias.scalars, [0, 0, 0, 0])
        XCTAssertEqual(try store.linear("fc", in: 3, out: 2).bias?.scalars, [0, 0])
    }
}

final class ModelDirectoryTests: XCTestCase {
    struct Config: Decodable, Equatable {
        let hidden_size: Int
        let names: [String]
    }

    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("model-dir-\(UUID().uuidString)")
        for sub in ["unet", "scheduler"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    private func writeConfig(_ text: String, component: String = "unet", name: String = "config.json") throws {
        try text.write(to: root.appendingPathComponent(component).appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    private func assertConfigError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelDirectory(root)
        XCTAssertThrowsError(try model.config(Config.self, of: .unet), file: file, line: line) { error in
            for fragment in fragments + ["unet/config.json"] {
                XCTAssertTrue("\(error)".contains(fragment), "'\(error)' should mention '\(fragment)'", file: file, line: line)
            }
        }
    }

    func testLocatesComponentsAndDecodesConfigs() throws {
        let model = try ModelDirectory(root)
        XCTAssertTrue(model.contains(.unet))
        XCTAssertFalse(model.contains(.vae))
        XCTAssertEqual(try model.directory(of: .unet).lastPathComponent, "unet")
        XCTAssertThrowsError(try model.directory(of: .textEncoder)) { error in
            XCTAssertTrue("\(error)".contains("text_encoder"), "\(error)")
        }
        try writeConfig(#"{"hidden_size": 4, "names": ["a"], "extra": null}"#)
        XCTAssertEqual(try model.config(Config.self, of: .unet), Config(hidden_size: 4, names: ["a"]))
        struct Scheduler: Decodable { let num_train_timesteps: Int }
        try writeConfig(#"{"num_train_timesteps": 1000}"#, component: "scheduler", name: "scheduler_config.json")
        XCTAssertEqual(try model.config(Scheduler.self, of: .scheduler).num_train_timesteps, 1000)
        XCTAssertThrowsError(try ModelDirectory(root.appendingPathComponent("nope")))
    }

    func testConfigErrorsNameFileAndField() throws {
        try assertConfigError(["missing configuration file"])
        try writeConfig(#"{"hidden_size": 4"#)
        try assertConfigError(["not valid JSON"])
        try writeConfig(#"{"names": []}"#)
        try assertConfigError(["missing field 'hidden_size'"])
        try writeConfig(#"{"hidden_size": "four", "names": []}"#)
        try assertConfigError(["field 'hidden_size'", "Int"])
        try writeConfig(#"{"hidden_size": 4, "names": ["a", 2]}"#)
        try assertConfigError(["field 'names.[1]'"])
    }
}
