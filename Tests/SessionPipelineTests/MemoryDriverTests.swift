import SessionPipeline
import SessionPipelineTesting
import Testing

struct MemoryDriverTests {
    @Test func bytesDriverPassesTheConformanceSuite() async throws {
        let report = try await StoreConformance.run { clock in MemoryDriver<[UInt8]>(clock: clock) }
        print("MemoryDriver<[UInt8]>: \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test func valueDriverPassesTheConformanceSuite() async throws {
        let report = try await StoreConformance.run { clock in MemoryDriver<SessionValue>(clock: clock) }
        print("MemoryDriver<SessionValue>: \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test func boundedDriverPassesTheConformanceSuite() async throws {
        // Large enough for every check, including 1,000 tasks × 4 keys.
        let report = try await StoreConformance.run { clock in MemoryDriver<[UInt8]>(capacity: 5000, clock: clock) }
        #expect(report.passed.count >= 12)
    }

    @Test func evictsTheLeastRecentlyUsedRecordBeyondCapacity() async throws {
        let driver = MemoryDriver<[UInt8]>(capacity: 3, clock: ManualClock())
        let keys = try (0..<4).map { try SessionKey("session:k\($0)") }
        for key in keys.prefix(3) {
            try await driver.set(key, to: Record([1]))
        }
        _ = try await driver.get(keys[0])  // k0 is now the most recent; k1 the least
        try await driver.set(keys[3], to: Record([2]))
        #expect(driver.count == 3)
        #expect(driver.evictions == 1)
        #expect(try await driver.get(keys[1]) == nil)
        #expect(try await driver.get(keys[0]) != nil)
        #expect(try await driver.get(keys[2]) != nil)
        #expect(try await driver.get(keys[3]) != nil)
    }

    @Test func overwritingDoesNotEvict() async throws {
        let driver = MemoryDriver<[UInt8]>(capacity: 2, clock: ManualClock())
        let a = try SessionKey("session:a")
        let b = try SessionKey("session:b")
        try await driver.set(a, to: Record([1]))
        try await driver.set(b, to: Record([1]))
        for round in 0..<10 {
            try await driver.set(a, to: Record([UInt8(round)]))
        }
        #expect(driver.evictions == 0)
        #expect(try await driver.get(b) != nil)
    }

    @Test func slotsAreReusedAfterDeletes() async throws {
        let driver = MemoryDriver<[UInt8]>(capacity: 100, clock: ManualClock())
        for round in 0..<50 {
            for index in 0..<100 {
                try await driver.set(try SessionKey("session:r\(round)-\(index)"), to: Record([UInt8(index)]))
            }
        }
        #expect(driver.count == 100)
        #expect(driver.evictions == 4900)
        for index in 0..<100 {
            #expect(try await driver.get(try SessionKey("session:r49-\(index)"))?.value == [UInt8(index)])
        }
    }

    @Test func expiredRecordsAreDroppedOnRead() async throws {
        let clock = ManualClock()
        let driver = MemoryDriver<[UInt8]>(clock: clock)
        let key = try SessionKey("session:x")
        try await driver.set(key, to: Record([1], expires: clock.now() + .seconds(1)))
        clock.advance(by: .seconds(1))
        #expect(try await driver.get(key) == nil)
        #expect(driver.count == 0)
    }
}
