import Foundation
import SessionPipeline
import SessionPipelineTesting
import Testing

struct FileDriverTests {
    /// A factory of fresh file drivers, each in a new directory (removed when the process exits).
    static func factory(
        _ configuration: FileDriver.Configuration = FileDriver.Configuration(durability: .none)
    ) -> @Sendable (ManualClock) async throws -> FileDriver {
        { clock in
            let directory = try TemporaryDirectory("conformance")
            return try FileDriver(root: directory.path, configuration: configuration, clock: clock)
        }
    }

    @Test func passesTheConformanceSuite() async throws {
        let report = try await StoreConformance.run(Self.factory())
        print("FileDriver: \(report)")
        #expect(report.passed.count >= 12)
    }

    @Test(arguments: [0, 2])
    func passesTheConformanceSuiteWithOtherFanOuts(levels: Int) async throws {
        let options = StoreConformance.Options(concurrentTasks: 100, operationsPerTask: 20)
        let report = try await StoreConformance.run(
            options: options,
            Self.factory(FileDriver.Configuration(durability: .none, fanOutLevels: levels))
        )
        #expect(report.passed.count >= 12)
    }

    @Test func passesTheConformanceSuiteWithFsync() async throws {
        let options = StoreConformance.Options(concurrentTasks: 40, operationsPerTask: 10, randomValues: 20)
        let report = try await StoreConformance.run(options: options, Self.factory(FileDriver.Configuration()))
        #expect(report.passed.count >= 12)
    }

    @Test func filesAreNamedByDigestInsideFanOutDirectoriesWithPrivatePermissions() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.path + "/nested/store"
        let driver = try FileDriver(root: root, configuration: .init(durability: .none), clock: ManualClock())
        #expect(permissions(root) == 0o700)
        try await driver.set(try SessionKey("session:abc"), to: Record([1, 2, 3]))
        let files = filesUnder(root).filter { !$0.hasSuffix(".lock") }
        #expect(files.count == 1)
        let parts = try #require(files.first).split(separator: "/")
        #expect(parts.count == 2)
        #expect(parts[0].count == 2 && parts[1].count == 32 && parts[1].hasPrefix(parts[0]))
        #expect(permissions(root + "/" + files[0]) == 0o600)
        #expect(permissions(root + "/" + String(parts[0])) == 0o700)
    }

    @Test func hostileButValidKeysStayInsideTheRoot() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.path + "/store"
        let driver = try FileDriver(root: root, configuration: .init(durability: .none), clock: ManualClock())
        let texts = [
            "session:%2e%2e%2f%2e%2e%2fetc%2fpasswd", "session:.", "session:.hidden", "session:~root",
            "session:$(rm -rf)", "session:*", "session:a:b", "user:" + String(repeating: "x", count: 251),
        ]
        for (index, text) in texts.enumerated() {
            let key = try SessionKey(text)
            try await driver.set(key, to: Record([UInt8(index)]))
            #expect(try await driver.get(key)?.value == [UInt8(index)])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["store"])
        #expect(filesUnder(root).filter { !$0.hasSuffix(".lock") }.count == texts.count)
        for text in ["session:../../etc/passwd", "session:a/b", "session:..", "session:a\u{0}"] {
            #expect(throws: SessionError.self) { try SessionKey(text) }
        }
    }

    @Test func aCorruptFileIsATypedErrorAndTheStoreStaysUsable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try FileDriver(root: directory.path, configuration: .init(durability: .none), clock: ManualClock())
        let key = try SessionKey("session:victim")
        let other = try SessionKey("session:bystander")
        try await driver.set(key, to: Record(Array(repeating: 7, count: 100)))
        try await driver.set(other, to: Record([9]))
        let path =
            directory.path + "/" + filesUnder(directory.path).first { file in
                !file.hasSuffix(".lock")
                    && (try? Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + file)))?.count ?? 0 > 120
            }!
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        var flipped = original
        flipped[60] ^= 0x01
        try flipped.write(to: URL(fileURLWithPath: path))
        let error = await #expect(throws: SessionError.self) { try await driver.get(key) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("checksum") == true)

        for (label, damaged) in [
            ("truncated", original.prefix(original.count - 5)), ("empty", Data()),
            ("garbage", Data(repeating: 0x41, count: 64)),
            ("extended", original + Data([0])),
        ] {
            try damaged.write(to: URL(fileURLWithPath: path))
            let error = await #expect(throws: SessionError.self, "\(label)") { try await driver.get(key) }
            #expect(error?.code == .corrupt, "\(label)")
        }

        #expect(try await driver.get(other)?.value == [9])
        try await driver.set(key, to: Record([1]))
        #expect(try await driver.get(key)?.value == [1])
    }

    @Test func aFileMovedToAnotherKeysPathDoesNotOpenAsThatKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try FileDriver(
            root: directory.path,
            configuration: .init(durability: .none, fanOutLevels: 0),
            clock: ManualClock()
        )
        let alice = try SessionKey("session:alice")
        let mallory = try SessionKey("session:mallory")
        try await driver.set(alice, to: Record([1]))
        try await driver.set(mallory, to: Record([2]))
        let files = filesUnder(directory.path).filter { !$0.hasSuffix(".lock") }
        #expect(files.count == 2)
        // Copy each file over the other: both reads must now fail, not swap sessions.
        let a = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + files[0]))
        try a.write(to: URL(fileURLWithPath: directory.path + "/" + files[1]))
        let results = await [try? driver.get(alice), try? driver.get(mallory)]
        #expect(results.compactMap { $0 }.count == 1)
        let error = await #expect(throws: SessionError.self) {
            _ = try await driver.get(alice)
            _ = try await driver.get(mallory)
        }
        #expect(error?.message.contains("different key") == true)
    }

    @Test func symlinksAtRecordPathsAreNotFollowed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try FileDriver(
            root: directory.path,
            configuration: .init(durability: .none, fanOutLevels: 0),
            clock: ManualClock()
        )
        let key = try SessionKey("session:linked")
        let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        try await driver.set(key, to: Record([1]))
        let file = try #require(filesUnder(directory.path).first { !$0.hasSuffix(".lock") })
        let path = directory.path + "/" + file
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/etc/passwd")
        let error = await #expect(throws: SessionError.self) { try await driver.get(key) }
        #expect(error?.code == .io)
        try await driver.set(key, to: Record([2]))
        #expect(try await driver.get(key)?.value == [2])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
    }

    @Test func valuesAboveTheLimitAreRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try FileDriver(
            root: directory.path,
            configuration: .init(durability: .none, maximumValueSize: 1000),
            clock: ManualClock()
        )
        let error = await #expect(throws: SessionError.self) {
            try await driver.set(try SessionKey("session:big"), to: Record(Array(repeating: 0, count: 1001)))
        }
        #expect(error?.code == .tooLarge)
        try await driver.set(try SessionKey("session:ok"), to: Record(Array(repeating: 0, count: 1000)))
    }

    @Test func staleTemporaryFilesAreRemovedAndYoungOnesKept() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = directory.path
        let bucket = root + "/ab"
        try FileManager.default.createDirectory(atPath: bucket, withIntermediateDirectories: true)
        let name = "ab" + String(repeating: "0", count: 30)
        let old = bucket + "/\(name).1f.tmp"
        let young = bucket + "/\(name).2f.tmp"
        let unrelated = bucket + "/notes.txt"
        for path in [old, young, unrelated] {
            _ = FileManager.default.createFile(atPath: path, contents: Data([1]))
        }
        let now = SystemClock().now()
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: TimeInterval(now.seconds - 601))],
            ofItemAtPath: old
        )
        _ = try FileDriver(root: root, configuration: .init(durability: .none), clock: ManualClock(now: now))
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: young))
        #expect(FileManager.default.fileExists(atPath: unrelated))

        let later = try FileDriver(
            root: root,
            configuration: .init(durability: .none, removeStaleTemporaryFilesOnOpen: false),
            clock: ManualClock(now: now + .seconds(601))
        )
        #expect(FileManager.default.fileExists(atPath: young))
        #expect(try await later.removeStaleTemporaryFiles() == 1)
        #expect(!FileManager.default.fileExists(atPath: young))
    }

    @Test func deleteExpiredQuarantinesFilesThatAreNotRecords() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let driver = try FileDriver(root: directory.path, configuration: .init(durability: .none), clock: clock)
        try await driver.set(try SessionKey("session:old"), to: Record([1], expires: clock.now() + .seconds(1)))
        try await driver.set(try SessionKey("session:live"), to: Record([2]))
        let bogus = directory.path + "/00/00" + String(repeating: "a", count: 30)
        try FileManager.default.createDirectory(atPath: directory.path + "/00", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: bogus, contents: Data("not a record".utf8))
        clock.advance(by: .seconds(1))
        #expect(try await driver.deleteExpired() == 1)
        #expect(!FileManager.default.fileExists(atPath: bogus))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/quarantine").count == 1)
        #expect(try await driver.get(try SessionKey("session:live"))?.value == [2])
    }

    @Test func ioFailuresAreTypedErrors() async throws {
        let error = #expect(throws: SessionError.self) {
            try FileDriver(root: "/proc/forbidden/sessions", clock: ManualClock())
        }
        #expect(error?.code == .io)
        #expect(error?.underlying is POSIXFailure)
    }
}
