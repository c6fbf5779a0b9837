import Foundation
import Serializers
import SessionPipeline
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The hostile inputs of docs/RELIABILITY.md that earlier suites do not already cover: each ends
/// in a typed error or in "no session", with the store or manager still serving the next request.
@Suite struct HostileInputTests {
    static let now = UnixTime(seconds: 1_700_000_000)

    /// A client-mode manager over the binary serializer and encryption, at a manual clock.
    static func clientManager(clock: ManualClock = ManualClock(now: now)) throws -> (SessionManager, CookieCodec) {
        let codec = try CookieCodec(
            serializer: .binary, compression: nil,
            protection: .encrypted(Encryption(keys: KeyRing(id: 1, key: SecretKey.random()))))
        return (try SessionManager(.client(codec), options: .init(clock: clock)), codec)
    }

    /// Reads `key` in a request carrying `header`; the session must load (no error).
    static func read(_ key: String, from manager: SessionManager, header: String) async throws -> SessionValue? {
        let session = RequestSession()
        session.attach(to: manager, cookieHeaders: [header])
        let value = try await session.value(forKey: key)
        _ = try await session.commit()
        return value
    }

    @Test func aSixteenMegabyteCookieIsNoSessionAndTheNextRequestIsServed() async throws {
        let (manager, codec) = try Self.clientManager()
        let header = "session=" + String(repeating: "A", count: 16 << 20)
        let error = #expect(throws: SessionError.self) { try codec.read(CookieHeader.parse(header), now: Self.now) }
        #expect(error?.code == .tooLarge || error?.code == .malformed)
        #expect(try await Self.read("user", from: manager, header: header) == nil)
        let valid = try await manager.cookieHeader(data: ["user": "alice"])
        #expect(try await Self.read("user", from: manager, header: valid) == "alice")
    }

    @Test func tenThousandChunkCookiesAreNoSession() async throws {
        let (manager, codec) = try Self.clientManager()
        let forged = (1...10_000).map { "session.\($0)=AAAA" }.joined(separator: "; ")
        for header in ["session=AAAA; " + forged, forged + "; session=AAAA"] {
            // At most 256 cookies are read; what is read is refused or found absent, never opened.
            let opened = try? codec.read(CookieHeader.parse(header), now: Self.now)
            #expect(opened == nil)
            #expect(try await Self.read("user", from: manager, header: header) == nil)
        }
        let valid = try await manager.cookieHeader(data: ["user": "alice"])
        #expect(try await Self.read("user", from: manager, header: valid) == "alice")
    }

    @Test func aCookieHeaderWithAThousandCookiesCostsAtMost256AndIsServed() async throws {
        let (manager, _) = try Self.clientManager()
        let valid = try await manager.cookieHeader(data: ["user": "alice"])
        let others = (0..<999).map { "tracker\($0)=\(String(repeating: "x", count: 20))" }.joined(separator: "; ")
        // The parser stops at CookieHeader.maximumCookies, so the work is bounded.
        #expect(CookieHeader.parse(others + "; " + valid).count == CookieHeader.maximumCookies)
        // The session cookie among the first 256 is found; one past them is not read, and the
        // request is served as one without a session rather than failing.
        #expect(try await Self.read("user", from: manager, header: valid + "; " + others) == "alice")
        #expect(try await Self.read("user", from: manager, header: others + "; " + valid) == nil)
    }

    @Test func valuesNestedPastTheLimitAreRefusedWithoutExhaustingTheStack() throws {
        let json = JSONSerializer()
        let deepJSON = [json.tag] + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        let jsonError = #expect(throws: SessionError.self) { try json.deserialize(deepJSON) }
        #expect(jsonError?.code == .malformed)
        let binary = MessagePackSerializer()
        let deepBinary = [binary.tag] + [UInt8](repeating: 0x91, count: 100_000) + [0xC0]
        let binaryError = #expect(throws: SessionError.self) { try binary.deserialize(deepBinary) }
        #expect(binaryError?.code == .malformed)
        // Writing refuses too: a value nested past the limit cannot be stored to be refused later.
        var value = SessionValue.null
        for _ in 0..<1000 { value = .array([value]) }
        #expect(throws: SessionError.self) { try binary.serialize(value) }
    }

    @Test func declaredSizesPastTheInputAreRefusedBeforeAllocating() throws {
        let binary = MessagePackSerializer()
        // A str32 claiming 4 GiB, an array32 and a map32 claiming 4 billion entries, a bin32.
        for header: [UInt8] in [[0xDB], [0xDD], [0xDF], [0xC6]] {
            let input = [binary.tag] + header + [0xFF, 0xFF, 0xFF, 0xFF] + Array("abc".utf8)
            let error = #expect(throws: SessionError.self) { try binary.deserialize(input) }
            #expect(error?.code == .malformed)
        }
        // A compression frame declaring 4 GiB is refused before any inflating.
        let frame: [UInt8] = [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x28, 0xB5, 0x2F, 0xFD]
        let error = #expect(throws: SessionError.self) { try Compression(.zstd()).decompress(frame) }
        #expect(error?.code == .tooLarge)
    }

    @Test func envelopesUnderAWrongKeyOrReplayedAfterExpiryAreRefused() async throws {
        let key = SecretKey.random()
        let sealer = Encryption(keys: KeyRing(id: 1, key: key))
        let plaintext = Array("the session".utf8)
        let envelope = sealer.seal(plaintext, context: "session", expires: Self.now + .seconds(60))
        func code(_ body: () throws -> Encryption.Opened) -> SessionError.Code? {
            (#expect(throws: SessionError.self) { _ = try body() })?.code
        }
        // Another key under the same id, an unknown id, another context, after the expiry.
        #expect(
            code {
                try Encryption(keys: KeyRing(id: 1, key: SecretKey.random())).open(
                    envelope, context: "session", now: Self.now)
            }
                == .authenticationFailed)
        #expect(
            code { try Encryption(keys: KeyRing(id: 7, key: key)).open(envelope, context: "session", now: Self.now) }
                == .unknownKeyID)
        #expect(code { try sealer.open(envelope, context: "session:other", now: Self.now) } == .authenticationFailed)
        #expect(code { try sealer.open(envelope, context: "session", now: Self.now + .seconds(61)) } == .expired)
        #expect(try sealer.open(envelope, context: "session", now: Self.now + .seconds(59)).plaintext == plaintext)

        // A cookie replayed after its session expired is no session, however valid its seal.
        let clock = ManualClock(now: Self.now)
        let (manager, _) = try Self.clientManager(clock: clock)
        let cookie = try await manager.cookieHeader(data: ["user": "alice"])
        #expect(try await Self.read("user", from: manager, header: cookie) == "alice")
        clock.advance(by: .seconds(31 * 60))  // past the default 30-minute idle expiry
        #expect(try await Self.read("user", from: manager, header: cookie) == nil)
    }

    @Test(.enabled(if: Mounts.available, "mounting needs root (CAP_SYS_ADMIN)"))
    func aFullDiskFailsWritesWithATypedErrorAndLosesNothingAcknowledged() async throws {
        let directory = try Mounts.directory("full-disk")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Mounts.run(["-t", "tmpfs", "-o", "size=512k", "tmpfs", directory])
        defer { try? Mounts.run(["-u", directory], command: "/bin/umount") }
        let driver = try FileDriver(root: directory + "/sessions")
        let value = [UInt8](repeating: 0x5A, count: 48 * 1024)
        var stored: [SessionKey] = []
        var failure: SessionError?
        for index in 0..<64 {
            let key = try SessionKey("session:fill-\(index)")
            do {
                try await driver.set(key, to: Record(value))
                stored.append(key)
            } catch let error as SessionError {
                failure = error
                break
            }
        }
        let error = try #require(failure, "512 KiB held \(stored.count) records of 48 KiB")
        #expect(error.code == .io)
        #expect(stored.count >= 5)
        // Every acknowledged record reads back whole; the failed write left no temporary file.
        for key in stored {
            #expect(try await driver.get(key)?.value == value)
        }
        #expect(try Mounts.files(under: directory).filter { $0.hasSuffix(".tmp") }.isEmpty)
        // Freeing space makes the store writable again.
        #expect(try await driver.delete(stored[0]))
        #expect(try await driver.delete(stored[1]))
        try await driver.set(try SessionKey("session:after"), to: Record(value))
        #expect(try await driver.get(try SessionKey("session:after"))?.value == value)
    }

    @Test(.enabled(if: Mounts.available, "mounting needs root (CAP_SYS_ADMIN)"))
    func aReadOnlyMountRefusesWritesAndStillServesReads() async throws {
        let writable = try Mounts.directory("writable")
        let readOnly = try Mounts.directory("read-only")
        defer {
            try? FileManager.default.removeItem(atPath: writable)
            try? FileManager.default.removeItem(atPath: readOnly)
        }
        let key = try SessionKey("session:kept")
        try await FileDriver(root: writable).set(key, to: Record(Array("kept".utf8)))
        try Mounts.run(["--bind", writable, readOnly])
        defer { try? Mounts.run(["-u", readOnly], command: "/bin/umount") }
        try Mounts.run(["-o", "remount,ro,bind", readOnly])

        let driver = try FileDriver(root: readOnly)
        #expect(try await driver.get(key)?.value == Array("kept".utf8))
        let write = await #expect(throws: SessionError.self) {
            try await driver.set(try SessionKey("session:new"), to: Record(Array("new".utf8)))
        }
        #expect(write?.code == .io)
        await #expect(throws: SessionError.self) { try await driver.delete(key) }
        // The refused operations changed nothing, and reads go on.
        #expect(try await driver.get(key)?.value == Array("kept".utf8))
        #expect(try await driver.get(try SessionKey("session:new")) == nil)
    }
}

/// Temporary mounts for the disk-fault tests.
enum Mounts {
    /// Whether this process may mount (root, and a trial mount works).
    static let available: Bool = {
        guard getuid() == 0, let directory = try? directory("probe") else { return false }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard (try? run(["-t", "tmpfs", "-o", "size=64k", "tmpfs", directory])) != nil else { return false }
        try? run(["-u", directory], command: "/bin/umount")
        return true
    }()

    static func directory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "sessionpipeline-\(name)-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func run(_ arguments: [String], command: String = "/bin/mount") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SessionError(.io, "\(command) \(arguments.joined(separator: " ")) failed", layer: "tests")
        }
    }

    static func files(under root: String) throws -> [String] {
        FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
    }
}
