import Foundation
import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

@testable import CustomLayer

/// A directory for a file store, new for each call.
func freshDirectory() throws -> String {
    var template = Array((NSTemporaryDirectory() + "/sessionpipeline-pipeline-XXXXXX").utf8CString)
    guard let created = mkdtemp(&template) else { throw SessionError(.io, "mkdtemp failed", layer: "tests") }
    return String(cString: created)
}

func fileDriver(_ clock: ManualClock) throws -> FileDriver {
    try FileDriver(root: try freshDirectory(), configuration: .init(durability: .none), clock: clock)
}

/// A ring with a primary key and an older one, shared by the stacks.
let testKeys: KeyRing = {
    do {
        return try KeyRing(
            primary: .init(id: 2, key: SecretKey.random()), older: [.init(id: 1, key: SecretKey.random())])
    } catch {
        fatalError("\(error)")
    }
}()

/// A user's format that cannot hold null, to exercise refusal at write time.
struct NoNullFormat: SessionSerializer {
    var tag: UInt8 { 0x40 }
    var name: String { "no-null" }
    var representableKinds: SessionValue.Kinds { SessionValue.Kinds.all.subtracting(.null) }

    func serialize(_ value: SessionValue) throws -> [UInt8] {
        [tag] + (try JSONSerializer().serialize(value)).dropFirst()
    }

    func deserialize(_ bytes: [UInt8]) throws -> SessionValue {
        try JSONSerializer().deserialize([JSONSerializer.tag] + bytes.dropFirst())
    }
}

/// Named pipelines of values, each over a fresh driver.
struct ValueStack: CustomTestStringConvertible, Sendable {
    let name: String
    let make: @Sendable (ManualClock) throws -> SessionStore

    var testDescription: String { name }

    static let all: [ValueStack] = [
        ValueStack(name: "json over memory") { clock in
            try SessionStore.pipeline().serialized(.json).driver(MemoryDriver<[UInt8]>(clock: clock))
        },
        ValueStack(name: "json over file") { clock in
            try SessionStore.pipeline().serialized(.json).driver(fileDriver(clock))
        },
        ValueStack(name: "namespace, json over file") { clock in
            try SessionStore.pipeline().namespaced("shop").serialized(.json).driver(fileDriver(clock))
        },
        ValueStack(name: "json, namespace, size limit over memory") { clock in
            try SessionStore.pipeline().serialized(.json).namespaced("tenant-a").sizeLimited(to: 1 << 20)
                .driver(MemoryDriver<[UInt8]>(clock: clock))
        },
        ValueStack(name: "namespace over a memory store of values") { clock in
            try SessionStore.pipeline().namespaced("n").driver(MemoryDriver<SessionValue>(clock: clock))
        },
        ValueStack(name: "json, zstd, encrypted over file") { clock in
            try SessionStore.pipeline().serialized(.json).compressed(.zstd(), threshold: 64).encrypted(with: testKeys)
                .driver(fileDriver(clock))
        },
        ValueStack(name: "binary, deflate, signed over memory") { clock in
            try SessionStore.pipeline().serialized(.binary).compressed(.deflate(), threshold: 64).signed(with: testKeys)
                .driver(MemoryDriver<[UInt8]>(clock: clock))
        },
        ValueStack(name: "namespace, binary, zstd, encrypted (lazy rotation) over memory") { clock in
            try SessionStore.pipeline().namespaced("app").serialized(.binary).compressed(.zstd(), threshold: 0)
                .encrypted(with: testKeys, configuration: .init(resealOnRead: true))
                .driver(MemoryDriver<[UInt8]>(clock: clock))
        },
        ValueStack(name: "plist-xml, signed, encrypted over file") { clock in
            try SessionStore.pipeline().serialized(.propertyListXML).signed(with: testKeys).encrypted(with: testKeys)
                .driver(fileDriver(clock))
        },
        ValueStack(name: "a format without null, over file") { clock in
            try SessionStore.pipeline().serialized(writing: NoNullFormat(), reading: [JSONSerializer()])
                .driver(fileDriver(clock))
        },
    ]
}

/// Named pipelines of bytes.
struct ByteStack: CustomTestStringConvertible, Sendable {
    let name: String
    let make: @Sendable (ManualClock) throws -> AnyRecordStore<[UInt8]>

    var testDescription: String { name }

    static let all: [ByteStack] = [
        ByteStack(name: "encrypted over memory") { clock in
            try Pipeline<[UInt8], [UInt8]>().encrypted(with: testKeys).store(over: MemoryDriver<[UInt8]>(clock: clock))
        },
        ByteStack(name: "encrypted over file") { clock in
            try Pipeline<[UInt8], [UInt8]>().encrypted(with: testKeys).store(over: fileDriver(clock))
        },
        ByteStack(name: "signed over memory") { clock in
            try Pipeline<[UInt8], [UInt8]>().signed(with: testKeys).store(over: MemoryDriver<[UInt8]>(clock: clock))
        },
        ByteStack(name: "signed over file") { clock in
            try Pipeline<[UInt8], [UInt8]>().signed(with: testKeys).store(over: fileDriver(clock))
        },
        ByteStack(name: "zstd over memory") { clock in
            try Pipeline<[UInt8], [UInt8]>().compressed(.zstd(), threshold: 0).store(
                over: MemoryDriver<[UInt8]>(clock: clock))
        },
        ByteStack(name: "deflate over file") { clock in
            try Pipeline<[UInt8], [UInt8]>().compressed(.deflate(), threshold: 0).store(over: fileDriver(clock))
        },
        ByteStack(name: "zstd, signed, encrypted over file") { clock in
            try Pipeline<[UInt8], [UInt8]>().compressed(.zstd()).signed(with: testKeys).encrypted(with: testKeys)
                .store(over: fileDriver(clock))
        },
        ByteStack(name: "namespace over memory") { clock in
            try Pipeline<[UInt8], [UInt8]>().namespaced("a").store(over: MemoryDriver<[UInt8]>(clock: clock))
        },
        ByteStack(name: "size limit, namespace over file") { clock in
            try Pipeline<[UInt8], [UInt8]>().sizeLimited(to: 1 << 20).namespaced("b").store(over: fileDriver(clock))
        },
    ]
}

struct PipelineConformanceTests {
    @Test(arguments: ValueStack.all)
    func valueStacksPassTheConformanceSuite(_ stack: ValueStack) async throws {
        let options = StoreConformance.Options(concurrentTasks: 200, operationsPerTask: 50)
        let report = try await StoreConformance.run(options: options) { clock in try stack.make(clock).base }
        print("\(stack.name): \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test(arguments: ByteStack.all)
    func byteStacksPassTheConformanceSuite(_ stack: ByteStack) async throws {
        let options = StoreConformance.Options(concurrentTasks: 200, operationsPerTask: 50)
        let report = try await StoreConformance.run(options: options) { clock in try stack.make(clock) }
        print("\(stack.name): \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test(arguments: ValueStack.all)
    func valueStacksPassTheConformanceSuiteUnderACache(_ stack: ValueStack) async throws {
        let options = StoreConformance.Options(concurrentTasks: 200, operationsPerTask: 50)
        let report = try await StoreConformance.run(options: options) { clock in
            try Pipeline<SessionValue, SessionValue>().cached(SessionCache(entries: 2000, ttl: .seconds(60)))
                .store(over: stack.make(clock).base)
        }
        print("cache over \(stack.name): \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test(arguments: ByteStack.all)
    func byteStacksPassTheConformanceSuiteUnderACache(_ stack: ByteStack) async throws {
        let options = StoreConformance.Options(concurrentTasks: 200, operationsPerTask: 50)
        let report = try await StoreConformance.run(options: options) { clock in
            try Pipeline<[UInt8], [UInt8]>().cached(Cache<[UInt8]>(entries: 2000, ttl: .seconds(60)))
                .store(over: stack.make(clock))
        }
        print("cache over \(stack.name): \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test func theExampleAuditTrailPassesTheConformanceSuiteAndJournalsChanges() async throws {
        let journal = AuditJournal()
        let report = try await StoreConformance.run(options: .init(concurrentTasks: 100, operationsPerTask: 20)) {
            clock in
            try Pipeline<SessionValue, SessionValue>().audited(into: journal).serialized(.json)
                .store(over: fileDriver(clock))
        }
        #expect(report.passed.count >= 12)
        let actions = Set(journal.entries.map(\.action))
        #expect(actions == [.saved, .deleted, .touched, .swept])
        #expect(journal.entries.allSatisfy { !$0.subject.contains("traverse-") || $0.subject.hasSuffix("…") })
    }

    @Test func theRefusalCheckRunsForAFormatThatCannotHoldNull() async throws {
        let stack = ValueStack.all.first { $0.name.contains("without null") }!
        let report = try await StoreConformance.run(options: .init(concurrentTasks: 10, operationsPerTask: 10)) {
            clock in
            try stack.make(clock).base
        }
        #expect(report.passed.contains("kinds the store cannot hold are refused at write time"))
    }
}
