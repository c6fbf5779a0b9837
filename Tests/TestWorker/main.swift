// A child process for the file driver's crash and multi-process tests.
//
//   TestWorker crash ROOT FIRST
//       Writes values FIRST, FIRST+1, … to eight keys in turn, with fsync, for ever. After each
//       temporary file is written and before it is renamed it prints "W" and pauses 20 ms, so
//       a test that kills it on that line kills it inside the write-to-rename window. After each
//       acknowledged write it prints "A <n>".
//
//   TestWorker descriptors ROOT
//       Counts its open file descriptors, runs 500 mixed operations (reads of missing and corrupt
//       records included), counts again, and prints "fds BEFORE AFTER".
//
//   TestWorker bomb-make deflate|zstd GIGABYTES DECLARED_MIB PATH
//       Writes to PATH a compression frame that declares DECLARED_MIB mebibytes but whose stream
//       inflates to GIGABYTES gibibytes of zeros, streaming, without holding them in memory.
//
//   TestWorker bomb-open PATH
//       In a fresh process, hands the frame at PATH to the compression layer (default limit) and
//       prints "refused CODE" or "accepted", then "rss BEFORE_KIB AFTER_KIB": the peak resident
//       memory before and after decompressing.
//
//   TestWorker cache-flow MIB COUNT
//       Sends COUNT distinct sessions through a cache bounded to MIB mebibytes over a store that
//       forgets them, and prints "rss BASELINE_KIB PEAK_KIB": resident memory before and the most
//       it reached (sampled every 1,000 sessions).
//
//   TestWorker memory-loop ROOT PHASES ITERATIONS
//       Seals and opens a 1 KiB payload and sets, gets and deletes records through compression
//       and encryption over a memory store and a file store under ROOT, ITERATIONS times per
//       phase, and prints "rss PHASE KIB" after each of PHASES phases.
//
//   TestWorker contend ROOT WRITER COUNT
//       Writes COUNT large values to four shared keys without fsync, each value filled with one
//       pattern derived from WRITER and its sequence number, so a torn or mixed file is visible.

import CZlib
import CZstd
@_spi(Testing) import SessionPipeline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// The payload for value `n`: `n` as 8 bytes, repeated to `size` bytes.
func payload(_ n: UInt64, size: Int) -> [UInt8] {
    let word = withUnsafeBytes(of: n.bigEndian) { Array($0) }
    return (0..<size).map { word[$0 % 8] }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    say("usage: TestWorker crash ROOT FIRST | contend ROOT WRITER COUNT")
    exit(2)
}
let root = arguments[2]

switch arguments[1] {
case "crash":
    let first = UInt64(arguments[3])!
    var configuration = FileDriver.Configuration(durability: .fsync, removeStaleTemporaryFilesOnOpen: false)
    configuration.afterTemporaryFileWritten = { _ in
        say("W")
        usleep(20_000)
    }
    let driver = try FileDriver(root: root, configuration: configuration)
    var n = first
    while true {
        let key = try SessionKey("session:crash-\(n % 8)")
        try await driver.set(key, to: Record(payload(n, size: 2048)))
        say("A \(n)")
        n += 1
    }
case "contend":
    let writer = UInt64(arguments[3])!
    let count = Int(arguments[4])!
    let driver = try FileDriver(
        root: root,
        configuration: FileDriver.Configuration(durability: .none, removeStaleTemporaryFilesOnOpen: false)
    )
    for sequence in 0..<count {
        let key = try SessionKey("session:shared-\(sequence % 4)")
        let n = writer << 32 | UInt64(sequence)
        try await driver.set(key, to: Record(payload(n, size: 64 * 1024 + Int(writer) * 1000)))
    }
    say("done \(writer)")
case "bomb-make":
    let codec = arguments[2]
    let total = Int(arguments[3])! << 30
    let declared = Int(arguments[4])! << 20
    let path = arguments[5]
    let chunk = [UInt8](repeating: 0, count: 1 << 20)
    var stream: [UInt8] = []
    if codec == "deflate" {
        var z = z_stream()
        precondition(deflateInit_(&z, 9, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var fed = 0
        while true {
            let last = fed + chunk.count >= total
            chunk.withUnsafeBytes { input in
                z.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
                z.avail_in = UInt32(chunk.count)
                repeat {
                    output.withUnsafeMutableBytes { out in
                        z.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        z.avail_out = UInt32(out.count)
                        _ = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH)
                        stream.append(contentsOf: out.prefix(out.count - Int(z.avail_out)))
                    }
                } while z.avail_out == 0
            }
            fed += chunk.count
            if last { break }
        }
        deflateEnd(&z)
    } else {
        let context = ZSTD_createCCtx()!
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3)
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var fed = 0
        while fed < total {
            let last = fed + chunk.count >= total
            chunk.withUnsafeBytes { input in
                var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
                var remaining = 0
                repeat {
                    output.withUnsafeMutableBytes { out in
                        var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                        remaining = ZSTD_compressStream2(context, &target, &source, last ? ZSTD_e_end : ZSTD_e_continue)
                        precondition(ZSTD_isError(remaining) == 0)
                        stream.append(contentsOf: out.prefix(target.pos))
                    }
                } while source.pos < source.size || (last && remaining != 0)
            }
            fed += chunk.count
        }
        ZSTD_freeCCtx(context)
    }
    let frame =
        [codec == "deflate" ? Compression.deflateTag : Compression.zstdTag]
        + withUnsafeBytes(of: UInt32(declared).bigEndian) { Array($0) } + stream
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    say("frame \(frame.count)")
case "bomb-open":
    /// The peak resident memory of this process image (VmHWM). Not `ru_maxrss`, which Linux
    /// carries over from the parent across fork and exec.
    func peakResidentKiB() -> Int {
        let fd = open("/proc/self/status", O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let text = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        return -1
    }
    let fd = open(root, O_RDONLY)
    var frame = [UInt8](repeating: 0, count: Int(lseek(fd, 0, SEEK_END)))
    _ = frame.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    close(fd)
    let before = peakResidentKiB()
    do {
        _ = try Compression(.zstd()).decompress(frame)
        say("accepted")
    } catch let error as SessionError {
        say("refused \(error.code)")
    }
    say("rss \(before) \(peakResidentKiB())")
case "cache-flow":
    let (baseline, peak, statistics) = try await cacheFlow(megabytes: Int(arguments[2])!, count: Int(arguments[3])!)
    say("entries \(statistics.entries) bytes \(statistics.bytes)")
    say("rss \(baseline) \(peak)")
case "memory-loop":
    try await memoryLoop(root: root, phases: Int(arguments[3])!, iterations: Int(arguments[4])!)
case "descriptors":
    // Descriptors of files and directories only: the runtime's own (eventfd, epoll, pipes) can
    // grow when Dispatch adds threads under load, and are not the driver's.
    func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            var target = [CChar](repeating: 0, count: 4096)
            let length = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            guard length > 0 else { continue }
            let path = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if path.hasPrefix("/") && !path.hasPrefix("/dev/") && !path.hasPrefix("/proc/") { count += 1 }
        }
        return count
    }
    let driver = try FileDriver(root: root, configuration: FileDriver.Configuration(durability: .fsync))
    // One operation first, so the Dispatch worker pool's own descriptors exist before counting.
    _ = try await driver.get(try SessionKey("session:warm-up"))
    let before = openDescriptors()
    for index in 0..<100 {
        let key = try SessionKey("session:fd-\(index % 10)")
        try await driver.set(key, to: Record(payload(UInt64(index), size: 100), expires: nil))
        _ = try await driver.get(key)
        _ = try await driver.get(try SessionKey("session:missing-\(index)"))
        _ = try await driver.touch(key, expires: nil)
        _ = try await driver.compareAndSwap(key, expecting: nil, with: Record([1]))
    }
    let corrupt = try SessionKey("session:corrupt")
    try await driver.set(corrupt, to: Record([1, 2, 3]))
    for try await _ in driver.keys() {}
    _ = try await driver.deleteExpired()
    let fd = open(driver.filePath(for: corrupt), O_WRONLY | O_TRUNC)
    close(fd)
    for _ in 0..<10 {
        _ = try? await driver.get(corrupt)
    }
    say("fds \(before) \(openDescriptors())")
default:
    say("unknown mode \(arguments[1])")
    exit(2)
}

/// A store that accepts every write and keeps nothing: what a cache sits over when only the cache's
/// own memory is being measured.
struct ForgetfulStore: RecordStore {
    var clock: any SessionClock { SystemClock() }
    var capabilities: StoreCapabilities { StoreCapabilities(traversal: .unsupported) }
    func get(_ key: SessionKey) async throws -> Record<SessionValue>? { nil }
    func set(_ key: SessionKey, to record: Record<SessionValue>) async throws -> RecordVersion? { nil }
    func delete(_ key: SessionKey) async throws -> Bool { false }
    func touch(_ key: SessionKey, expires: UnixTime?) async throws -> Bool { false }
    func deleteExpired() async throws -> Int { 0 }
    func keys() -> KeySnapshot { KeySnapshot([]) }
}

/// Resident memory in KiB (VmRSS).
func residentKiB() -> Int {
    let fd = open("/proc/self/status", O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 8192)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    let text = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
    return -1
}

/// Sends `count` distinct sessions through a cache bounded to `megabytes`; returns the resident
/// memory before and at its peak. A plain async function, so that its awaits stay on the global
/// executor instead of hopping back to the main actor after every call.
func cacheFlow(megabytes: Int, count: Int) async throws -> (Int, Int, SessionCache.Statistics) {
    let cache = SessionCache(entries: count, bytes: megabytes << 20, ttl: .seconds(3600))
    let store = try Pipeline<SessionValue, SessionValue>().cached(cache).store(over: ForgetfulStore())
    let baseline = residentKiB()
    var peak = baseline
    var session: SessionDictionary = [
        "roles": ["customer"], "cart": [["sku": "SKU-1", "qty": 1, "price": 9.99]],
    ]
    for index in 0..<count {
        let id = String(index, radix: 36)
        session["user"] = .string("user-\(id)@example.com")
        session["csrf"] = .string(id + "-RHtUVQcDMpg0TMkxpdzPaEMM1ZA7V0FhHVJWDBt2hWd")
        session["visits"] = .int(Int64(index))
        try await store.set(try SessionKey("session:\(id)-0123456789abcdefghijklmnopqrst"), to: Record(session.value))
        if index % 1000 == 0 {
            peak = max(peak, residentKiB())
        }
    }
    return (baseline, max(peak, residentKiB()), cache.statistics)
}

/// The loop of `memory-loop`: the same work over and over, resident memory after each phase.
func memoryLoop(root: String, phases: Int, iterations: Int) async throws {
    let keys = KeyRing(id: 1, key: SecretKey.random())
    let encryption = Encryption(keys: keys)
    let compression = Compression(.zstd(), threshold: 0)
    let memory = try compression.wrap(encryption.wrap(MemoryDriver<[UInt8]>()))
    let files = try compression.wrap(
        encryption.wrap(FileDriver(root: root, configuration: .init(durability: .none))))
    let plaintext = (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 3) }
    for phase in 1...phases {
        for index in 0..<iterations {
            let envelope = encryption.seal(plaintext, context: "session", expires: nil)
            let opened = try encryption.open(envelope, context: "session", now: UnixTime(seconds: 0))
            precondition(opened.plaintext == plaintext)
            let key = try SessionKey("session:loop-\(index % 500)")
            try await memory.set(key, to: Record(plaintext))
            let read = try await memory.get(key)?.value
            precondition(read == plaintext)
            if index % 3 == 0 { _ = try await memory.delete(key) }
            if index % 10 == 0 {
                try await files.set(key, to: Record(plaintext))
                let stored = try await files.get(key)?.value
                precondition(stored == plaintext)
                if index % 20 == 0 { _ = try await files.delete(key) }
            }
        }
        say("rss \(phase) \(residentKiB())")
    }
}
