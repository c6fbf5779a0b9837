import Foundation
import SessionPipeline
import Testing

/// A running `TestWorker` whose standard output is read line by line.
final class Worker {
    let process = Process()
    private let output = Pipe()
    private var buffer: [UInt8] = []

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: productsDirectory() + "/TestWorker")
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
    }

    /// The next line, or nil at end of output.
    func readLine() -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The payload the worker writes for value `n`: `n` as 8 big-endian bytes, repeated.
func workerPayload(_ n: UInt64, size: Int) -> [UInt8] {
    let word = withUnsafeBytes(of: n.bigEndian) { Array($0) }
    return (0..<size).map { word[$0 % 8] }
}

/// The `n` a worker payload was made from, or nil when the bytes are not one whole payload.
func decodeWorkerPayload(_ bytes: [UInt8]) -> UInt64? {
    guard bytes.count >= 8 else { return nil }
    let n = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    return bytes == workerPayload(n, size: bytes.count) ? n : nil
}

@Suite(.serialized)
struct FileDriverCrashTests {
    @Test func everyFileIsWholeAfterWritersAreKilledInsideTheirWriteWindow() async throws {
        let directory = try TemporaryDirectory("crash")
        defer { directory.remove() }
        let root = directory.path
        var random = SystemRandomNumberGenerator()
        var acknowledged = [UInt64?](repeating: nil, count: 8)
        var next: UInt64 = 1
        var killsInWindow = 0
        var leftoversSeen = 0
        let kills = 100
        for _ in 0..<kills {
            let temporariesBefore = Set(filesUnder(root).filter { $0.hasSuffix(".tmp") })
            let worker = try Worker(["crash", root, String(next)])
            // Let a few writes complete, then kill on the next "W": the worker is then paused with
            // its temporary file written and not yet renamed.
            let completeFirst = Int.random(in: 0...3, using: &random)
            var completed = 0
            var inWindow = false
            while let line = worker.readLine() {
                if line.hasPrefix("A ") {
                    let n = UInt64(line.dropFirst(2))!
                    acknowledged[Int(n % 8)] = n
                    next = n + 1
                    completed += 1
                } else if line == "W", completed >= completeFirst {
                    inWindow = true
                    break
                }
            }
            worker.kill()
            #expect(inWindow, "the worker ended before reaching its write window")
            if inWindow { killsInWindow += 1 }
            // The proof that the kill landed between write and rename: a new temporary file is left,
            // complete, holding the value in flight.
            let leftovers = Set(filesUnder(root).filter { $0.hasSuffix(".tmp") }).subtracting(temporariesBefore)
            if leftovers.count == 1, let leftover = leftovers.first {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/" + leftover)))
                let key = "session:crash-\(next % 8)"
                let complete =
                    bytes.count == 27 + key.utf8.count + 2048 + 4
                    && Array(bytes[(27 + key.utf8.count)...].prefix(2048)) == workerPayload(next, size: 2048)
                #expect(complete, "the leftover temporary file is not the complete value in flight")
                if complete { leftoversSeen += 1 }
            }

            // Every record reads back whole, as the last acknowledged value or the one in flight.
            let reader = try FileDriver(
                root: root,
                configuration: .init(removeStaleTemporaryFilesOnOpen: false),
                clock: ManualClock()
            )
            for slot in 0..<8 {
                let record = try await reader.get(try SessionKey("session:crash-\(slot)"))
                guard let acked = acknowledged[slot] else { continue }
                let bytes = try #require(record?.value, "acknowledged value of key \(slot) lost")
                let n = try #require(decodeWorkerPayload(bytes), "key \(slot) holds a torn value")
                #expect(n == acked || n == next, "key \(slot) holds \(n); acknowledged \(acked), in flight \(next)")
            }
            next += 1
        }
        #expect(killsInWindow == kills)
        #expect(leftoversSeen == kills, "only \(leftoversSeen) of \(kills) kills left a temporary file behind")

        // The next start with the leftovers past their age removes them all.
        #expect(!filesUnder(root).filter { $0.hasSuffix(".tmp") }.isEmpty)
        _ = try FileDriver(root: root, clock: ManualClock(now: SystemClock().now() + .seconds(601)))
        #expect(filesUnder(root).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func concurrentWritersInSeveralProcessesNeverProduceATornFile() async throws {
        let directory = try TemporaryDirectory("contend")
        defer { directory.remove() }
        let root = directory.path
        let writers = try (1...4).map { try Worker(["contend", root, String($0), "150"]) }
        let reader = try FileDriver(
            root: root,
            configuration: .init(removeStaleTemporaryFilesOnOpen: false),
            clock: ManualClock()
        )
        var reads = 0
        let done = { writers.allSatisfy { !$0.process.isRunning } }
        while !done() {
            for slot in 0..<4 {
                guard let record = try await reader.get(try SessionKey("session:shared-\(slot)")) else { continue }
                let n = try #require(decodeWorkerPayload(record.value), "read a mixed value")
                let writer = Int(n >> 32)
                #expect(record.value.count == 64 * 1024 + writer * 1000, "value length does not match its writer")
                reads += 1
            }
        }
        for writer in writers {
            writer.process.waitUntilExit()
            #expect(writer.process.terminationStatus == 0)
        }
        for slot in 0..<4 {
            let record = try #require(try await reader.get(try SessionKey("session:shared-\(slot)")))
            #expect(decodeWorkerPayload(record.value) != nil)
        }
        #expect(reads > 0)
        #expect(filesUnder(root).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func operationsLeaveNoFileDescriptorOpen() async throws {
        let directory = try TemporaryDirectory("descriptors")
        defer { directory.remove() }
        let worker = try Worker(["descriptors", directory.path])
        let line = try #require(worker.readLine())
        worker.process.waitUntilExit()
        let parts = line.split(separator: " ")
        #expect(parts.count == 3 && parts[0] == "fds")
        #expect(parts.count == 3 && parts[1] == parts[2], "descriptors before and after: \(line)")
    }
}
