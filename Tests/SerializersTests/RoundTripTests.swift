import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

/// A serializer under test, named for readable test output.
struct Format: CustomTestStringConvertible, Sendable {
    let serializer: any SessionSerializer
    var testDescription: String { serializer.name }

    static let all = StandardFormats.all.map(Format.init)
}

struct RoundTripTests {
    @Test(arguments: Format.all)
    func everySampleRoundTripsExactly(_ format: Format) throws {
        let serializer = format.serializer
        for (name, value) in SessionValue.samples(for: StoreCapabilities()) {
            let bytes = try serializer.serialize(value)
            #expect(bytes.first == serializer.tag)
            #expect(try serializer.deserialize(bytes) == value, "\(name)")
        }
    }

    @Test(arguments: Format.all)
    func seededRandomValuesRoundTripAndEncodeCanonically(_ format: Format) throws {
        let serializer = format.serializer
        var generator = SeededGenerator.fromEnvironment()
        print("\(serializer.name) round-trip seed: \(generator.seed)")
        for index in 0..<1000 {
            let value = SessionValue.random(using: &generator, kinds: .all, depth: 0)
            let bytes = try serializer.serialize(value)
            let read = try serializer.deserialize(bytes)
            #expect(read == value, "value \(index) (seed \(generator.seed))")
            #expect(try serializer.serialize(read) == bytes, "value \(index) is not canonical (seed \(generator.seed))")
        }
    }

    @Test(arguments: Format.all, Format.all)
    func aStoreConfiguredForOneFormatReadsAnother(written: Format, configured: Format) async throws {
        let driver = MemoryDriver<[UInt8]>(clock: ManualClock())
        let writer = try SessionStore.pipeline().serialized(written.serializer).driver(driver)
        let reader = try SessionStore.pipeline().serialized(configured.serializer).driver(driver)
        var generator = SeededGenerator.fromEnvironment()
        print("\(written.serializer.name) → \(configured.serializer.name) seed: \(generator.seed)")
        for index in 0..<100 {
            let value = SessionValue.random(using: &generator, kinds: .all, depth: 0)
            let key = try SessionKey("session:pair-\(index)")
            try await writer.set(key, value)
            #expect(try await driver.get(key)?.value.first == written.serializer.tag)
            #expect(try await reader.get(key) == value, "value \(index) (seed \(generator.seed))")
        }
    }

    @Test(arguments: Format.all)
    func eachFormatRefusesAnothersTag(_ format: Format) throws {
        for other in Format.all where other.serializer.tag != format.serializer.tag {
            let bytes = try other.serializer.serialize(["a": 1])
            let error = #expect(throws: SessionError.self) { try format.serializer.deserialize(bytes) }
            #expect(error?.code == .unknownFormat)
        }
    }

    @Test(arguments: Format.all)
    func nestingBeyondTheLimitIsRefusedBothWays(_ format: Format) throws {
        let deep = (0..<200).reduce(SessionValue.int(1)) { inner, _ in .array([inner]) }
        let error = #expect(throws: SessionError.self) { try format.serializer.serialize(deep) }
        #expect(error?.code == .invalidValue)
    }

    @Test(arguments: Format.all)
    func everyTruncationIsATypedError(_ format: Format) throws {
        let value: SessionValue = [
            "user": "jane", "n": 300, "big": .int(.max), "pi": .double(.pi), "raw": .bytes([1, 2, 3]),
            "seen": .date(SessionDate(microsecondsSince1970: 1_718_000_000_123_456)), "list": [1, "two", .null],
        ]
        let bytes = try format.serializer.serialize(value)
        for length in 0..<bytes.count {
            do {
                let read = try format.serializer.deserialize(Array(bytes.prefix(length)))
                // Only a cut that drops nothing but trailing whitespace (XML's final newline) may read.
                let dropped = bytes[length...]
                #expect(
                    read == value && dropped.allSatisfy { $0 == 0x0A },
                    "a truncation to \(length) of \(bytes.count) bytes read as \(read)"
                )
            } catch let error as SessionError {
                #expect([.malformed, .unknownFormat].contains(error.code), "\(length): \(error)")
            }
        }
    }
}
