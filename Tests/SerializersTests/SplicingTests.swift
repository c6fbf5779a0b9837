import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

/// MessagePack's splicing: reading a dictionary with its values left encoded, and writing one
/// whose values are partly still encoded, must agree byte for byte with the whole-value path.
struct SplicingTests {
    let serializer = MessagePackSerializer()

    /// A random dictionary with `count` random entries.
    static func randomDictionary(count: Int, using generator: inout SeededGenerator) -> SessionDictionary {
        var dictionary = SessionDictionary()
        for index in 0..<count {
            let key = index % 3 == 0 ? "k\(index)" : "key-\(UInt32.random(in: 0...UInt32.max, using: &generator))"
            dictionary[key] = SessionValue.random(using: &generator, kinds: .all, depth: 0)
        }
        return dictionary
    }

    @Test func splicedWritesMatchWholeWritesOnSeededRandomSessions() throws {
        var generator = SeededGenerator.fromEnvironment()
        print("Splicing seed: \(generator.seed)")
        for round in 0..<300 {
            let original = Self.randomDictionary(count: Int.random(in: 0...24, using: &generator), using: &generator)
            let payload = try serializer.serialize(.dictionary(original))
            let entries = try #require(try serializer.entries(of: EncodedValue(payload: payload)))
            #expect(entries.map(\.key) == original.keys, "round \(round) (seed \(generator.seed))")
            for entry in entries {
                #expect(try serializer.decode(entry.value) == original[entry.key], "round \(round)")
            }
            // Change, remove and add some keys; leave the rest encoded.
            var expected = original
            var parts: [(key: String, value: SplicedValue)] = []
            for entry in entries {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0:
                    let value = SessionValue.random(using: &generator, kinds: .all, depth: 1)
                    expected[entry.key] = value
                    parts.append((entry.key, .value(value)))
                case 1:
                    expected[entry.key] = nil
                default:
                    parts.append((entry.key, .encoded(entry.value)))
                }
            }
            expected["added-\(round)"] = .int(Int64(round))
            parts.append(("added-\(round)", .value(.int(Int64(round)))))
            parts.shuffle(using: &generator)
            let spliced = try serializer.serialize(.dictionary(parts))
            #expect(
                spliced == (try serializer.serialize(.dictionary(expected))),
                "round \(round) (seed \(generator.seed))")
        }
    }

    @Test func whateverDecodesAlsoSplitsIntoTheSameEntriesUnderRandomCorruption() throws {
        var generator = SeededGenerator.fromEnvironment()
        print("Splicing corruption seed: \(generator.seed)")
        var decodedCount = 0
        for round in 0..<3000 {
            let original = Self.randomDictionary(count: Int.random(in: 1...8, using: &generator), using: &generator)
            var payload = try serializer.serialize(.dictionary(original))
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 1..<payload.count, using: &generator)
                payload[index] = UInt8.random(in: 0...255, using: &generator)
            }
            let whole = try? serializer.deserialize(payload)
            let split = Result { try serializer.entries(of: EncodedValue(payload: payload)) }
            guard case .dictionary(let dictionary)? = whole else { continue }
            decodedCount += 1
            let entries = try #require(try split.get(), "round \(round) (seed \(generator.seed))")
            #expect(entries.map(\.key) == dictionary.keys, "round \(round) (seed \(generator.seed))")
            for entry in entries {
                #expect(try serializer.decode(entry.value) == dictionary[entry.key], "round \(round)")
            }
        }
        #expect(decodedCount > 100)
    }

    @Test func nestedDictionariesSplitAgain() throws {
        let payload = try serializer.serialize(["data": ["a": 1, "b": ["x", "y"]], "sid": "h"])
        let outer = try #require(try serializer.entries(of: EncodedValue(payload: payload)))
        #expect(outer.map(\.key) == ["data", "sid"])
        let inner = try #require(try serializer.entries(of: outer[0].value))
        #expect(inner.map(\.key) == ["a", "b"])
        #expect(try serializer.decode(inner[1].value) == ["x", "y"])
        #expect(try serializer.entries(of: outer[1].value) == nil)
        #expect(try serializer.entries(of: inner[0].value) == nil)
    }

    @Test func keysFromOtherWritersAreSortedAndDuplicatesRefused() throws {
        // {"b": 1, "a": 2}: unsorted, as another MessagePack writer may produce it.
        let unsorted: [UInt8] = [0x21, 0x82, 0xA1, 0x62, 0x01, 0xA1, 0x61, 0x02]
        let entries = try #require(try serializer.entries(of: EncodedValue(payload: unsorted)))
        #expect(entries.map(\.key) == ["a", "b"])
        #expect(try serializer.decode(entries[0].value) == 2)
        let duplicate: [UInt8] = [0x21, 0x82, 0xA1, 0x61, 0x01, 0xA1, 0x61, 0x02]
        #expect(throws: SessionError.self) { try serializer.entries(of: EncodedValue(payload: duplicate)) }
    }

    @Test func framingErrorsAreTypedAndContentErrorsWaitForDecoding() throws {
        func code(_ bytes: [UInt8]) -> SessionError.Code? {
            do {
                _ = try serializer.entries(of: EncodedValue(payload: bytes))
                return nil
            } catch let error as SessionError {
                return error.code
            } catch {
                return nil
            }
        }
        // Truncated: a map of one entry whose string value claims 5 bytes and has 2.
        #expect(code([0x21, 0x81, 0xA1, 0x61, 0xA5, 0x68, 0x69]) == .malformed)
        // A declared count the input cannot back.
        #expect(code([0x21, 0xDF, 0xFF, 0xFF, 0xFF, 0xFF]) == .malformed)
        // A key that is not a string.
        #expect(code([0x21, 0x81, 0x01, 0x01]) == .malformed)
        // Trailing bytes.
        #expect(code([0x21, 0x80, 0x00]) == .malformed)
        // Invalid UTF-8 in a key is caught at once.
        #expect(code([0x21, 0x81, 0xA1, 0xFF, 0x01]) == .malformed)
        // Nesting past the limit inside a value is caught by the skip.
        let deep = MessagePackSerializer(maximumDepth: 4)
        let nested: [UInt8] = [0x21, 0x81, 0xA1, 0x61] + [UInt8](repeating: 0x91, count: 5) + [0x01]
        #expect(throws: SessionError.self) { try deep.entries(of: EncodedValue(payload: nested)) }
        // An unknown extension type inside a value is caught by the skip, too.
        #expect(code([0x21, 0x81, 0xA1, 0x61, 0xD4, 0x05, 0x00]) == .malformed)
        // Invalid UTF-8 inside a value is framing-correct: it surfaces when that value is decoded.
        let entries = try #require(
            try serializer.entries(of: EncodedValue(payload: [0x21, 0x81, 0xA1, 0x61, 0xA1, 0xFF])))
        #expect(throws: SessionError.self) { try serializer.decode(entries[0].value) }
        // Another format's value.
        #expect(throws: SessionError.self) { try serializer.entries(of: EncodedValue(tag: 0x20, bytes: [0x80][...])) }
        #expect(throws: SessionError.self) {
            try serializer.serialize(.dictionary([("a", .encoded(EncodedValue(tag: 0x20, bytes: [0x31][...])))]))
        }
        #expect(throws: SessionError.self) {
            try serializer.serialize(.dictionary([("a", .value(1)), ("a", .value(2))]))
        }
    }

    @Test func everyTruncationOfARealSessionIsRefusedWithoutACrash() throws {
        let json = try #require(referenceSession("session_1k"))
        let session = try JSONSerializer().deserialize([JSONSerializer.tag] + Array(json.utf8))
        let payload = try serializer.serialize(session)
        #expect(try serializer.entries(of: EncodedValue(payload: payload))?.isEmpty == false)
        for length in 1..<payload.count {
            #expect(throws: SessionError.self, "length \(length)") {
                try serializer.entries(of: EncodedValue(payload: Array(payload[..<length])))
            }
        }
    }
}
