import Foundation
import SessionPipeline
import Testing

/// Memory stays flat under a long loop of the library's everyday work: no leak per operation.
@Suite struct FlatMemoryTests {
    @Test func aLongLoopOfSealsOpensAndStoreOperationsKeepsMemoryFlat() throws {
        let directory = try TemporaryDirectory("memory-loop")
        defer { directory.remove() }
        // Six phases of 20,000 iterations: 120,000 seals and opens, as many memory-store writes
        // and reads, and 12,000 file-store writes and reads.
        let worker = try Worker(["memory-loop", directory.path, "6", "20000"])
        var series: [Int] = []
        while let line = worker.readLine() {
            let parts = line.split(separator: " ")
            if parts.count == 3 && parts[0] == "rss", let kib = Int(parts[2]) { series.append(kib) }
        }
        worker.process.waitUntilExit()
        #expect(worker.process.terminationStatus == 0)
        try #require(series.count == 6, "the loop reported \(series.count) phases")
        print("resident KiB after each phase of 20,000 iterations: \(series)")
        // After the first phase (caches, thread pools and allocator arenas warmed up), the rest
        // of the run may not grow by more than 2 MiB: a leak of even 20 bytes per iteration would
        // show 2 MiB over the 100,000 iterations that follow.
        let growth = series.last! - series.first!
        #expect(growth <= 2048, "resident memory grew \(growth) KiB after warm-up: \(series)")
    }
}
