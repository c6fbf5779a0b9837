import Foundation
import SessionPipeline
import SessionPipelineTesting
import Testing

struct HashedIDsTests {
    @Test func theDriverSeesOnlyKeyedHashesOfIdentifiers() async throws {
        let clock = ManualClock()
        let driver = MemoryDriver<[UInt8]>(clock: clock)
        let idKey = SecretKey.random()
        let store = try Pipeline<[UInt8], [UInt8]>().hashingIDs(with: idKey).store(over: driver)
        let id = SessionID.random()
        try await store.set(.session(id), to: Record([1]))
        try await store.set(.flash(id), to: Record([2]))
        var stored: [SessionKey] = []
        for try await key in driver.keys() { stored.append(key) }
        #expect(stored.count == 2)
        for key in stored {
            #expect(!key.rawValue.contains(id.rawValue))
            #expect(key.id.count == 64 && key.id.allSatisfy(\.isHexDigit))
        }
        #expect(Set(stored.map(\.prefix)) == [.session, .flash])
        #expect(try await store.get(.session(id))?.value == [1])
        #expect(store.capabilities.traversal == .storedKeys)
        // Another id key finds nothing: the hash is keyed.
        let other = try Pipeline<[UInt8], [UInt8]>().hashingIDs(with: SecretKey.random()).store(over: driver)
        #expect(try await other.get(.session(id)) == nil)
    }

    @Test func passesTheConformanceSuite() async throws {
        let idKey = SecretKey.random()
        let report = try await StoreConformance.run(options: .init(concurrentTasks: 200, operationsPerTask: 50)) {
            clock in
            try Pipeline<[UInt8], [UInt8]>().hashingIDs(with: idKey).store(over: MemoryDriver<[UInt8]>(clock: clock))
        }
        #expect(report.passed.count >= 12)
    }
}

struct MigrationTests {
    @Test func readsMoveRecordsForwardWithTheirExpiry() async throws {
        let clock = ManualClock()
        let old = MemoryDriver<SessionValue>(clock: clock)
        let new = MemoryDriver<SessionValue>(clock: clock)
        let store = try Pipeline<SessionValue, SessionValue>().migrating(from: old).store(over: new)
        let key = try SessionKey("session:legacy")
        try await old.set(key, to: Record(["user": "alice"], expires: clock.now() + .seconds(60)))
        let record = try #require(try await store.get(key))
        #expect(record.value == ["user": "alice"] && record.expires == clock.now() + .seconds(60))
        #expect(try await new.get(key)?.value == ["user": "alice"])
        #expect(try await new.get(key)?.expires == clock.now() + .seconds(60))
        #expect(record.version == (try await new.get(key))?.version)
    }

    @Test func writesGoToTheNewStoreAndDeletesToBoth() async throws {
        let clock = ManualClock()
        let old = MemoryDriver<SessionValue>(clock: clock)
        let new = MemoryDriver<SessionValue>(clock: clock)
        let store = try Pipeline<SessionValue, SessionValue>().migrating(from: old).store(over: new)
        let key = try SessionKey("session:both")
        try await old.set(key, to: Record(1))
        try await store.set(key, to: Record(2))
        #expect(try await old.get(key)?.value == 1)
        #expect(try await store.get(key)?.value == 2)
        #expect(try await store.delete(key))
        #expect(try await old.get(key) == nil && new.count == 0)
        #expect(try await store.get(key) == nil, "a deleted session came back from the old store")
    }

    @Test func aConcurrentWriteToTheNewStoreWins() async throws {
        let clock = ManualClock()
        let old = MemoryDriver<SessionValue>(clock: clock)
        let key = try SessionKey("session:race")
        try await old.set(key, to: Record("old"))
        let new = MemoryDriver<SessionValue>(clock: clock)
        try await new.set(key, to: Record("new"))
        let store = try Pipeline<SessionValue, SessionValue>().migrating(from: old).store(over: new)
        #expect(try await store.get(key)?.value == "new")
    }

    @Test func traversalListsBothStoresOnce() async throws {
        let clock = ManualClock()
        let old = MemoryDriver<SessionValue>(clock: clock)
        let new = MemoryDriver<SessionValue>(clock: clock)
        let store = try Pipeline<SessionValue, SessionValue>().migrating(from: old).store(over: new)
        for name in ["a", "b", "c"] { try await old.set(try SessionKey("session:\(name)"), to: Record(1)) }
        for name in ["c", "d"] { try await new.set(try SessionKey("session:\(name)"), to: Record(1)) }
        var listed: [String] = []
        for try await key in store.keys() { listed.append(key.id) }
        #expect(listed.sorted() == ["a", "b", "c", "d"])
    }

    @Test func passesTheConformanceSuiteFromFilesToMemory() async throws {
        let report = try await StoreConformance.run(options: .init(concurrentTasks: 200, operationsPerTask: 50)) {
            clock in
            let old = try FileDriver(
                root: try TemporaryDirectory("old").path,
                configuration: .init(durability: .none),
                clock: clock
            )
            return try Pipeline<[UInt8], [UInt8]>().migrating(from: old).store(
                over: MemoryDriver<[UInt8]>(clock: clock))
        }
        #expect(report.passed.count >= 12)
    }
}
