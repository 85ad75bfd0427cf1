import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes that outlive every view handed out from them: either a file mapped with
/// `mmap` (so multi-gigabyte checkpoints cost no RAM until touched, and pages are shared with
/// the page cache) or an owned heap copy of an in-memory buffer (wire-protocol bodies).
final class ByteRegion: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let release: () -> Void

    private init(base: UnsafeRawPointer, count: Int, release: @escaping () -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit { release() }

    /// Maps `url` read-only. Empty files get a 1-byte dummy region of size 0 (mmap rejects 0).
    static func map(_ url: URL) throws -> ByteRegion {
        let path = url.path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw SafeTensorsError.unreadable(source: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 {
            throw SafeTensorsError.unreadable(source: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) != S_IFREG {
            throw SafeTensorsError.unreadable(source: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 { return owned(copying: UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SafeTensorsError.unreadable(source: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        return ByteRegion(base: UnsafeRawPointer(p), count: size) { munmap(p, size) }
    }

    /// An owned, 16-byte aligned copy of `bytes`.
    static func owned(copying bytes: UnsafeRawBufferPointer) -> ByteRegion {
        let p = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 16)
        if let src = bytes.baseAddress, bytes.count > 0 { p.copyMemory(from: src, byteCount: bytes.count) }
        return ByteRegion(base: UnsafeRawPointer(p), count: bytes.count) { p.deallocate() }
    }
}
