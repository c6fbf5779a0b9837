#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin, checked wrappers over the system calls the file driver makes. Every failure becomes a
/// ``SessionError`` with code ``SessionError/Code/io`` naming the operation, the path and the
/// system's reason; `EINTR` is retried.
enum POSIX {
    static let layer = "FileDriver"

    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> SessionError {
        let reason = String(cString: strerror(code))
        return SessionError(.io, "\(operation) \(path): \(reason)", layer: layer, underlying: POSIXFailure(code: code))
    }

    /// Runs `call` until it does not fail with `EINTR`.
    static func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }

    static func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        retrying { open(path, flags | O_CLOEXEC, mode) }
    }

    static func closeFile(_ fd: Int32) {
        _ = close(fd)
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", path)
                }
                offset += written
            }
        }
    }

    /// Reads up to `count` bytes from the start of `fd`; fewer only at end of file.
    static func readFile(_ fd: Int32, count: Int, path: String) throws -> [UInt8] {
        try [UInt8](uninitializedCount: count) { buffer, initialized in
            var offset = 0
            while offset < count {
                let got = pread(fd, buffer.baseAddress! + offset, count - offset, off_t(offset))
                if got < 0 {
                    if errno == EINTR { continue }
                    initialized = offset
                    throw failure("read", path)
                }
                if got == 0 { break }
                offset += got
            }
            initialized = offset
        }
    }

    static func fileSize(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("stat", path) }
        return Int(info.st_size)
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard retrying({ fsync(fd) }) == 0 else { throw failure("fsync", path) }
    }

    /// Flushes a directory's entries (a rename or unlink in it) to disk.
    static func fsyncDirectory(_ path: String) throws {
        let fd = openFile(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure("open directory", path) }
        defer { closeFile(fd) }
        try sync(fd, path: path)
    }

    /// Creates `path` and any missing parents with mode 0700.
    static func makeDirectories(_ path: String) throws {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw failure("create directory", path)
        }
        try makeDirectories(String(path[..<slash]))
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw failure("create directory", path) }
    }

    /// The names in a directory (without `.` and `..`); empty when it does not exist.
    static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw failure("list", path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw failure("list", path) }
                break
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names
    }

    /// The modification time of `path` in Unix seconds, or `nil` when it does not exist.
    static func modificationTime(_ path: String) throws -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw failure("stat", path)
        }
        return Int64(info.st_mtim.tv_sec)
    }

    /// Removes `path`; returns whether it existed.
    @discardableResult
    static func removeFile(_ path: String) throws -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw failure("remove", path)
    }

    static func renameFile(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else { throw failure("rename", from) }
    }
}

/// An operating-system error number, as the underlying error of an I/O ``SessionError``.
public struct POSIXFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `errno` value, such as `ENOSPC`.
    public let code: Int32

    /// The system's description of the error.
    public var description: String {
        "errno \(code): \(String(cString: strerror(code)))"
    }
}
