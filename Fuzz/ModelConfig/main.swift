import Diffusion
import Foundation

/// libFuzzer target: any bytes as a model directory's JSON files — `unet/config.json`,
/// `vae/config.json`, `text_encoder/config.json`, `scheduler/scheduler_config.json` — through
/// the decoders and architecture validation obclip builds models from. The first byte picks the
/// file; the scheduler configuration is also handed to every scheduler. Every failure must be a decoding or a named configuration error, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let selector = start.load(as: UInt8.self)
    let json = Data(bytes: start + 1, count: count - 1)
    let decoder = JSONDecoder()
    switch selector % 4 {
    case 0:
        if let config = try? decoder.decode(UNetConfiguration.self, from: json) { try? config.validate() }
    case 1:
        if let config = try? decoder.decode(AutoencoderKLConfiguration.self, from: json) { try? config.validate() }
    case 2:
        _ = try? decoder.decode(CLIPTextConfiguration.self, from: json)
    default:
        // Each scheduler reads its keys from the config when built, for a step count also
        // taken from the input (1…256: the server's limit is 100).
        if let config = try? SchedulerConfig(json: json, source: "fuzz") {
            let steps = Int(selector / 4) + 1
            for kind in SchedulerKind.allCases { _ = try? kind.makeScheduler(config: config, steps: steps) }
        }
    }
    return 0
}
