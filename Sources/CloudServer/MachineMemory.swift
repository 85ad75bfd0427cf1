import Foundation

/// What memory this machine can give the server.
enum MachineMemory {
    /// Bytes the kernel reports as available for new allocations without swapping
    /// (`MemAvailable` in /proc/meminfo); the physical memory where that file does not exist.
    static func availableBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            return kibibytes * 1024
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }
}
