import Foundation
import Serializers
import SessionPipeline
import Testing

/// purge, rekey (killed half way and run again), migrate and stats over a file store of 100,000
/// sessions (`SESSIONCTL_TEST_SESSIONS` changes the number), through the real `sessionctl` binary.
@Suite(.serialized)
struct MaintenanceCommandTests {
    static let sessions = ProcessInfo.processInfo.environment["SESSIONCTL_TEST_SESSIONS"].flatMap { Int($0) } ?? 100_000

    static func key(_ index: Int) throws -> SessionKey { try SessionKey("session:s\(index)") }

    static func value(_ index: Int) -> SessionValue {
        [
            "user": .int(Int64(index)), "name": .string("user \(index)"), "cart": [1, 2, .int(Int64(index % 7))],
            "note": .string(String(repeating: "session \(index % 10) ", count: 12)),
        ]
    }

    static func configuration(_ root: String, _ ring: String, _ rest: String = "serializer:binary") -> String {
        "driver:file;root=\(root);fsync=no;\(rest);encrypt:env=\(ring)"
    }

    @Test(.timeLimit(.minutes(20)))
    func purgeRekeyAndMigrateAHundredThousandFileSessions() async throws {
        let directory = try TemporaryDirectory("maintenance")
        defer { directory.remove() }
        let root = directory.path + "/store"
        let (k1, k2, k3, k4) = (randomKeyText(), randomKeyText(), randomKeyText(), randomKeyText())
        let environment = [
            "OLD_KEYS": "1:\(k1)", "NEW_KEYS": "2:\(k2),1:\(k1)", "NEWER_KEYS": "3:\(k3),2:\(k2),1:\(k1)",
            "OTHER_KEYS": "7:\(k4)",
        ]
        let count = Self.sessions
        let live = (count + 1) / 2

        // Half the sessions expired a minute ago, the other half expire in a day.
        let now = SystemClock().now()
        let writer = try SessionStore.pipeline().serialized(.binary).encrypted(with: KeyRing(text: "1:\(k1)"))
            .driver(FileDriver(root: root, configuration: .init(durability: .none)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<4 {
                group.addTask {
                    for index in stride(from: part, to: count, by: 4) {
                        let expires = index.isMultiple(of: 2) ? now + .seconds(86_400) : now - .seconds(60)
                        try await writer.set(try Self.key(index), Self.value(index), expires: expires)
                    }
                }
            }
            try await group.waitForAll()
        }
        func run(_ arguments: [String]) async throws -> Finished {
            let finished = try await sessionctl(arguments, environment: environment)
            #expect(finished.status == 0, "sessionctl \(arguments.first ?? ""): \(finished.error)")
            print("sessionctl \(arguments.first ?? ""): \(finished.text)", terminator: "")
            return finished
        }

        let before = try await run(["stats", "--store", Self.configuration(root, "OLD_KEYS")])
        #expect(before.text.contains("sessions: \(live) live, \(count - live) expired"), "\(before.text)")
        #expect(before.text.contains("key ids: 1 \(live)"))
        #expect(before.text.contains("serializers: binary, not compressed \(live)"))

        let purge = try await run(["purge", "--store", Self.configuration(root, "OLD_KEYS")])
        #expect(purge.text.hasPrefix("removed \(count - live) of \(count) in "), "\(purge.text)")

        let rekey = try await run(["rekey", "--store", Self.configuration(root, "NEW_KEYS")])
        #expect(rekey.text.hasPrefix("re-sealed \(live) of \(live) in "), "\(rekey.text)")
        let again = try await run(["rekey", "--store", Self.configuration(root, "NEW_KEYS")])
        #expect(again.text.hasPrefix("re-sealed 0 of \(live) in "), "\(again.text)")
        #expect(again.text.contains("(\(live) already under the primary key"))

        // Rotate again, kill the rekey once it is a tenth of the way, and run it again.
        let child = try Child(
            productsDirectory() + "/sessionctl",
            ["rekey", "--store", Self.configuration(root, "NEWER_KEYS"), "--progress", "lines"],
            environment: environment)
        let started = ContinuousClock.now
        let tenth = live / 10
        var killedAt = 0
        while ContinuousClock.now - started < .seconds(300) {
            try await Task.sleep(for: .milliseconds(20))
            if let done = try child.lastProgress(), done >= tenth {
                child.kill()
                killedAt = done
                break
            }
        }
        let killed = await child.wait()
        #expect(killed.status == 128 + SIGKILL, "the rekey ended before it was killed: \(killed.text)")
        #expect(killedAt >= tenth && killedAt < live)
        let halfway = try await run(["stats", "--store", Self.configuration(root, "NEWER_KEYS")])
        #expect(halfway.text.contains("sessions: \(live) live"), "\(halfway.text)")
        #expect(halfway.text.contains("key ids: ") && halfway.text.contains("3 ") && halfway.text.contains("2 "))
        let resumed = try await run(["rekey", "--store", Self.configuration(root, "NEWER_KEYS")])
        #expect(resumed.text.hasPrefix("re-sealed "), "\(resumed.text)")
        #expect(!resumed.text.hasPrefix("re-sealed 0 ") && !resumed.text.hasPrefix("re-sealed \(live) "))
        let after = try await run(["stats", "--store", Self.configuration(root, "NEWER_KEYS")])
        #expect(after.text.contains("key ids: 3 \(live)"), "\(after.text)")

        // Every session is whole, under the newest key only, with its expiry.
        let reader = try SessionStore.pipeline().serialized(.binary).encrypted(with: KeyRing(text: "3:\(k3)"))
            .driver(FileDriver(root: root))
        for index in stride(from: 0, to: count, by: 2) {
            let record = try #require(try await reader.record(try Self.key(index)), "session \(index) was lost")
            #expect(record.value == Self.value(index))
            #expect(record.expires == now + .seconds(86_400))
        }

        // Migrate to another driver root, serializer, compression and key, verifying each copy.
        let target = directory.path + "/target"
        let targetConfiguration = Self.configuration(target, "OTHER_KEYS", "serializer:json;compress:zstd,threshold=0")
        let migrate = try await run([
            "migrate", "--from", Self.configuration(root, "NEWER_KEYS"), "--to", targetConfiguration,
        ])
        #expect(migrate.text.hasPrefix("copied \(live) of \(live) in "), "\(migrate.text)")
        let copied = try await run(["stats", "--store", targetConfiguration])
        #expect(copied.text.contains("key ids: 7 \(live)"), "\(copied.text)")
        #expect(copied.text.contains("serializers: json, zstd \(live)"), "\(copied.text)")
        let copies = try SessionStore.pipeline().serialized(.json).compressed(.zstd()).encrypted(
            with: KeyRing(text: "7:\(k4)")
        ).driver(FileDriver(root: target))
        for index in stride(from: 0, to: count, by: 2) {
            let record = try #require(try await copies.record(try Self.key(index)), "copy \(index) is missing")
            #expect(record.value == Self.value(index))
            #expect(record.expires == now + .seconds(86_400))
        }
    }

    @Test func storeErrorsAreOneLineWithTheirExitCode() async throws {
        let directory = try TemporaryDirectory("errors")
        defer { directory.remove() }
        let bad = try await sessionctl(["purge", "--store", "driver:nosuch;serializer:json"])
        expectRefused(bad, status: 2)
        #expect(bad.error.contains("unknown driver"))
        let noKeys = try await sessionctl([
            "rekey", "--store", "driver:file;root=\(directory.path);serializer:json;encrypt:env=SESSIONCTL_UNSET",
        ])
        expectRefused(noKeys, status: 2)
        #expect(noKeys.error.contains("SESSIONCTL_UNSET"))
        let renamed = try await sessionctl(
            [
                "migrate", "--from",
                "driver:file;root=\(directory.path);serializer:json;hash-ids:env=SESSIONCTL_ID_KEY",
                "--to", "driver:file;root=\(directory.path)/b;serializer:json",
            ], environment: ["SESSIONCTL_ID_KEY": randomKeyText()])
        expectRefused(renamed, status: 2)
        let empty = try await sessionctl(["purge", "--store", "driver:file;root=\(directory.path);serializer:json"])
        #expect(empty.status == 0)
        #expect(empty.text.hasPrefix("removed 0 of 0 in "))
    }
}

extension Child {
    /// The last `LABEL DONE/TOTAL` progress line on standard error so far.
    func lastProgress() throws -> Int? {
        guard let text = try? String(contentsOfFile: errorPath, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard let last = lines.last(where: { $0.contains("/") }),
            let done = last.split(separator: " ").last?.split(separator: "/").first
        else { return nil }
        return Int(done)
    }
}
