import SessionPipeline
import Testing

struct EncryptionTests {
    static let key1 = SecretKey.random()
    static let key2 = SecretKey.random()
    static let ring1 = KeyRing(id: 1, key: key1)
    static let now: UnixTime = 1_700_000_000

    static func payload(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
    }

    @Test func sealsTheDocumentedEnvelopeAndOpensIt() throws {
        let encryption = Encryption(keys: Self.ring1)
        let plaintext = Self.payload(1024)
        let envelope = encryption.seal(plaintext, context: "session:abc", expires: 1_800_000_000)
        #expect(envelope.count == plaintext.count + 53)
        #expect(envelope[0] == 0x01)
        #expect(Array(envelope[1..<5]) == [0, 0, 0, 1])
        #expect(Array(envelope[5..<13]) == [0, 0, 0, 0, 0x6B, 0x49, 0xD2, 0x00])
        let header = try Encryption.header(of: envelope)
        #expect(header.keyID == 1 && header.expires == 1_800_000_000 && header.nonce == Array(envelope[13..<37]))
        let opened = try encryption.open(envelope, context: "session:abc", now: Self.now)
        #expect(opened.plaintext == plaintext)
        #expect(opened.expires == 1_800_000_000)
        #expect(!opened.needsReseal)
        #expect(
            try encryption.open(encryption.seal([], context: "c:x", expires: nil), context: "c:x", now: Self.now)
                .plaintext == [])
    }

    @Test func everySingleBitFlipIsRejected() throws {
        let encryption = Encryption(keys: Self.ring1)
        let envelope = encryption.seal(Self.payload(1024), context: "session:abc", expires: nil)
        var counts: [SessionError.Code: Int] = [:]
        for byte in envelope.indices {
            for bit in 0..<8 {
                var flipped = envelope
                flipped[byte] ^= 1 << bit
                do {
                    _ = try encryption.open(flipped, context: "session:abc", now: Self.now)
                    Issue.record("a flip of bit \(bit) of byte \(byte) opened")
                } catch let error as SessionError {
                    let expected: SessionError.Code =
                        switch byte {
                        case 0: .malformed
                        case 1...4: .unknownKeyID
                        default: .authenticationFailed
                        }
                    #expect(error.code == expected, "byte \(byte) bit \(bit): \(error)")
                    counts[error.code, default: 0] += 1
                }
            }
        }
        #expect(counts.values.reduce(0, +) == envelope.count * 8)
        print("bit flips of a sealed 1 KiB value: \(counts)")
    }

    /// An empty payload still has its tag checked (the output buffer is empty, the work is not),
    /// and many tasks may open empty payloads at once: the empty result is not shared state.
    @Test func anEmptyPayloadIsAuthenticatedAndOpensConcurrently() async throws {
        let encryption = Encryption(keys: Self.ring1)
        let envelope = encryption.seal([], context: "c:x", expires: nil)
        #expect(envelope.count == 53)
        for byte in 37..<envelope.count {
            var flipped = envelope
            flipped[byte] ^= 0x20
            let error = #expect(throws: SessionError.self) {
                try encryption.open(flipped, context: "c:x", now: Self.now)
            }
            #expect(error?.code == .authenticationFailed, "byte \(byte)")
        }
        #expect(throws: SessionError.self) { try encryption.open(envelope, context: "c:y", now: Self.now) }
        let opened = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    var total = 0
                    for _ in 0..<50 {
                        total += try encryption.open(envelope, context: "c:x", now: Self.now).plaintext.count + 1
                    }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(opened == 64 * 50)
    }

    @Test func everyTruncationAndExtensionIsRejected() throws {
        let encryption = Encryption(keys: Self.ring1)
        let envelope = encryption.seal(Self.payload(1024), context: "session:abc", expires: nil)
        for length in 0..<envelope.count {
            let error = #expect(throws: SessionError.self) {
                try encryption.open(Array(envelope.prefix(length)), context: "session:abc", now: Self.now)
            }
            #expect(error?.code == (length < 53 ? .malformed : .authenticationFailed), "length \(length)")
        }
        for extra in [[0], [0x01], Self.payload(16), Self.payload(4096)] as [[UInt8]] {
            let error = #expect(throws: SessionError.self) {
                try encryption.open(envelope + extra, context: "session:abc", now: Self.now)
            }
            #expect(error?.code == .authenticationFailed)
        }
    }

    @Test func olderKeysOpenAndAskForResealingMissingKeysAreUnknown() throws {
        let old = Encryption(keys: Self.ring1)
        let envelope = old.seal(Self.payload(100), context: "session:abc", expires: nil)
        let rotated = Encryption(
            keys: try KeyRing(primary: .init(id: 2, key: Self.key2), older: [.init(id: 1, key: Self.key1)]))
        let opened = try rotated.open(envelope, context: "session:abc", now: Self.now)
        #expect(opened.needsReseal && opened.keyID == 1 && opened.plaintext == Self.payload(100))
        let resealed = rotated.seal(opened.plaintext, context: "session:abc", expires: nil)
        #expect(try Encryption.header(of: resealed).keyID == 2)

        let withoutOld = Encryption(keys: KeyRing(id: 2, key: Self.key2))
        let error = #expect(throws: SessionError.self) {
            try withoutOld.open(envelope, context: "session:abc", now: Self.now)
        }
        #expect(error?.code == .unknownKeyID)
        #expect(error?.message.contains("1") == true)

        let impostor = Encryption(keys: KeyRing(id: 1, key: Self.key2))
        let forged = #expect(throws: SessionError.self) {
            try impostor.open(envelope, context: "session:abc", now: Self.now)
        }
        #expect(forged?.code == .authenticationFailed)
    }

    @Test func anEnvelopeMovedToAnotherContextOrPastItsExpiryDoesNotOpen() throws {
        let encryption = Encryption(keys: Self.ring1)
        let envelope = encryption.seal(Self.payload(10), context: "session:alice", expires: Self.now + .seconds(60))
        for context in ["session:bob", "session:alice ", "session:alic", "flash:alice", ""] {
            let error = #expect(throws: SessionError.self) {
                try encryption.open(envelope, context: context, now: Self.now)
            }
            #expect(error?.code == .authenticationFailed)
        }
        #expect(
            try encryption.open(envelope, context: "session:alice", now: Self.now + .seconds(59)).plaintext.count == 10)
        let expired = #expect(throws: SessionError.self) {
            try encryption.open(envelope, context: "session:alice", now: Self.now + .seconds(60))
        }
        #expect(expired?.code == .expired)
        let past = encryption.seal([1], context: "session:alice", expires: Self.now - .seconds(1))
        #expect(throws: SessionError.self) { try encryption.open(past, context: "session:alice", now: Self.now) }
    }

    @Test func aMillionSealsRepeatNoNonce() throws {
        struct Nonce: Hashable {
            let a: UInt64, b: UInt64, c: UInt64
        }
        let encryption = Encryption(keys: Self.ring1)
        var seen = Set<Nonce>(minimumCapacity: 1_000_000)
        for _ in 0..<1_000_000 {
            let envelope = encryption.seal([], context: "s:x", expires: nil)
            let nonce = envelope.withUnsafeBytes {
                Nonce(
                    a: $0.loadUnaligned(fromByteOffset: 13, as: UInt64.self),
                    b: $0.loadUnaligned(fromByteOffset: 21, as: UInt64.self),
                    c: $0.loadUnaligned(fromByteOffset: 29, as: UInt64.self)
                )
            }
            seen.insert(nonce)
        }
        #expect(seen.count == 1_000_000)
    }

    // MARK: The layer

    @Test func theLayerTakesExpiryFromTheEnvelopeNotTheDriver() async throws {
        let clock = ManualClock(now: Self.now)
        let driver = MemoryDriver<[UInt8]>(clock: clock)
        let store = try Pipeline<[UInt8], [UInt8]>().encrypted(with: Self.ring1).store(over: driver)
        let key = try SessionKey("session:abc")
        try await store.set(key, to: Record([1, 2, 3], expires: Self.now + .seconds(60)))
        // Someone with access to the store extends the record's expiry without the key.
        let sealed = try #require(try await driver.get(key))
        try await driver.set(key, to: Record(sealed.value, expires: Self.now + .seconds(86_400)))
        #expect(try await store.get(key)?.expires == Self.now + .seconds(60))
        clock.advance(by: .seconds(60))
        #expect(try await store.get(key) == nil)
    }

    @Test func lazyRotationResealsUnderThePrimaryKeyOnRead() async throws {
        let clock = ManualClock(now: Self.now)
        let driver = MemoryDriver<[UInt8]>(clock: clock)
        let key = try SessionKey("session:rotate")
        let old = try Pipeline<[UInt8], [UInt8]>().encrypted(with: Self.ring1).store(over: driver)
        try await old.set(key, to: Record([9, 9], expires: Self.now + .seconds(600)))
        let rotatedRing = try KeyRing(primary: .init(id: 2, key: Self.key2), older: [.init(id: 1, key: Self.key1)])

        let flagging = try Pipeline<[UInt8], [UInt8]>().encrypted(with: rotatedRing).store(over: driver)
        let flagged = try #require(try await flagging.get(key))
        #expect(flagged.flags.contains(.needsReseal) && flagged.value == [9, 9])
        #expect(try Encryption.header(of: try #require(try await driver.get(key)).value).keyID == 1)

        let resealing = try Pipeline<[UInt8], [UInt8]>()
            .encrypted(with: rotatedRing, configuration: .init(resealOnRead: true))
            .store(over: driver)
        #expect(try await resealing.get(key)?.value == [9, 9])
        let stored = try #require(try await driver.get(key))
        #expect(try Encryption.header(of: stored.value).keyID == 2)
        #expect(stored.expires == Self.now + .seconds(600))
        #expect(try await resealing.get(key)?.flags.contains(.needsReseal) == false)
    }

    @Test func unsealedRecordsAreRefusedUnlessMigrating() async throws {
        let driver = MemoryDriver<[UInt8]>(clock: ManualClock(now: Self.now))
        let key = try SessionKey("session:plain")
        try await driver.set(key, to: Record([0x20] + Array("{}".utf8)))
        let strict = try Pipeline<[UInt8], [UInt8]>().encrypted(with: Self.ring1).store(over: driver)
        let error = await #expect(throws: SessionError.self) { try await strict.get(key) }
        #expect(error?.code == .malformed)

        let migrating = try Pipeline<[UInt8], [UInt8]>()
            .encrypted(with: Self.ring1, configuration: .init(resealOnRead: true, acceptUnsealed: true))
            .store(over: driver)
        let record = try #require(try await migrating.get(key))
        #expect(record.flags.contains(.needsRewrite) && record.value == [0x20] + Array("{}".utf8))
        #expect(try await driver.get(key)?.value.first == 0x01)
        #expect(try await strict.get(key)?.value == [0x20] + Array("{}".utf8))
    }

    @Test func touchReseals() async throws {
        let clock = ManualClock(now: Self.now)
        let driver = MemoryDriver<[UInt8]>(clock: clock)
        let store = try Pipeline<[UInt8], [UInt8]>().encrypted(with: Self.ring1).store(over: driver)
        let key = try SessionKey("session:t")
        try await store.set(key, to: Record([5], expires: Self.now + .seconds(10)))
        #expect(try await store.touch(key, expires: Self.now + .seconds(100)))
        let envelope = try #require(try await driver.get(key)).value
        #expect(try Encryption.header(of: envelope).expires == Self.now + .seconds(100))
        clock.advance(by: .seconds(50))
        #expect(try await store.get(key)?.value == [5])
    }
}
