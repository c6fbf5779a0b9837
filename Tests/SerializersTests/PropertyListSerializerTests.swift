import Foundation
import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

struct PropertyListSerializerTests {
    static let formats: [PropertyListSerializer.Format] = [.binary, .xml]

    private func foundationObject(_ bytes: [UInt8]) throws -> Any {
        try PropertyListSerialization.propertyList(from: Data(bytes.dropFirst()), format: nil)
    }

    @Test(arguments: formats)
    func foundationReadsWhatWeWrite(_ format: PropertyListSerializer.Format) throws {
        let plist = PropertyListSerializer(format: format)
        let value: SessionValue = [
            "name": "Jérôme 🌍", "count": 42, "negative": -7, "big": .int(.max), "ratio": 0.25,
            "raw": .bytes([0, 1, 254]), "flags": [true, false], "nested": ["inner": ["a", "b"]],
            "when": .date(SessionDate(microsecondsSince1970: 1_718_000_000_000_000)),
        ]
        let object = try #require(try foundationObject(plist.serialize(value)) as? [String: Any])
        #expect(object["name"] as? String == "Jérôme 🌍")
        #expect((object["count"] as? NSNumber)?.int64Value == 42)
        #expect((object["negative"] as? NSNumber)?.int64Value == -7)
        #expect((object["big"] as? NSNumber)?.int64Value == .max)
        #expect((object["ratio"] as? NSNumber)?.doubleValue == 0.25)
        #expect(object["raw"] as? Data == Data([0, 1, 254]))
        #expect((object["flags"] as? [Any])?.count == 2)
        #expect(((object["nested"] as? [String: Any])?["inner"] as? [String]) == ["a", "b"])
        #expect((object["when"] as? Date)?.timeIntervalSince1970 == 1_718_000_000)
    }

    @Test(arguments: formats)
    func weReadWhatFoundationWrites(_ format: PropertyListSerializer.Format) throws {
        let object: [String: Any] = [
            "name": "Jérôme", "count": 42, "ratio": 0.25, "raw": Data([9]), "list": ["x", "x", "x"],
            "when": Date(timeIntervalSince1970: 1_718_000_000), "empty": [String: Any](), "yes": true,
        ]
        let data = try PropertyListSerialization.data(
            fromPropertyList: object,
            format: format == .binary ? .binary : .xml,
            options: 0
        )
        let plist = PropertyListSerializer(format: format)
        let value = try plist.deserialize([plist.tag] + [UInt8](data))
        let expected: SessionValue = [
            "name": "Jérôme", "count": 42, "ratio": 0.25, "raw": .bytes([9]), "list": ["x", "x", "x"],
            "when": .date(SessionDate(microsecondsSince1970: 1_718_000_000_000_000)), "empty": .dictionary([:]),
            "yes": true,
        ]
        #expect(value == expected)
    }

    @Test(arguments: formats)
    func nullHasADocumentedForm(_ format: PropertyListSerializer.Format) throws {
        let plist = PropertyListSerializer(format: format)
        let bytes = try plist.serialize(["gone": .null, "$null": "user data"])
        let object = try #require(try foundationObject(bytes) as? [String: Any])
        #expect((object["gone"] as? [String: Any])?["$null"] as? Bool == true)
        #expect(object["$$null"] as? String == "user data")
        #expect(try plist.deserialize(bytes) == ["gone": .null, "$null": "user data"])
    }

    @Test func datesTheFormatCannotHoldExactlyUseIntegerMicroseconds() throws {
        let withMicros = SessionDate(microsecondsSince1970: 1_718_000_000_123_456)
        let farFuture = SessionDate(microsecondsSince1970: 253_402_300_799_999_999)
        let xml = PropertyListSerializer(format: .xml)
        let xmlObject = try #require(try foundationObject(xml.serialize(["d": .date(withMicros)])) as? [String: Any])
        #expect(((xmlObject["d"] as? [String: Any])?["$date"] as? NSNumber)?.int64Value == 1_718_000_000_123_456)
        let binary = PropertyListSerializer(format: .binary)
        let binaryObject = try #require(
            try foundationObject(binary.serialize(["d": .date(withMicros)])) as? [String: Any])
        #expect(binaryObject["d"] is Date)
        let far = try #require(try foundationObject(binary.serialize(["d": .date(farFuture)])) as? [String: Any])
        #expect((far["d"] as? [String: Any])?["$date"] != nil)
        for plist in [xml, binary] {
            for date in [withMicros, farFuture] {
                #expect(try plist.deserialize(plist.serialize(.date(date))) == .date(date))
            }
        }
    }

    @Test func xmlCarriesEveryStringExactly() throws {
        let xml = PropertyListSerializer(format: .xml)
        let awkward = "line\r\nbreak\rcarriage <tag> & \u{1}control \u{FFFE}"
        let bytes = try xml.serialize(["plain": "a\r\nb", "awkward": .string(awkward)])
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        #expect(text.contains("<string>a&#13;\nb</string>"))
        #expect(text.contains("<key>$string</key>"))
        #expect(try xml.deserialize(bytes) == ["plain": "a\r\nb", "awkward": .string(awkward)])
        let object = try #require(try foundationObject(bytes) as? [String: Any])
        #expect(object["plain"] as? String == "a\r\nb")
    }

    @Test func xmlRefusesKeysItCannotCarry() throws {
        let error = #expect(throws: SessionError.self) {
            try PropertyListSerializer(format: .xml).serialize(["bad\u{1}key": 1])
        }
        #expect(error?.code == .invalidValue)
        #expect(try PropertyListSerializer(format: .binary).serialize(["bad\u{1}key": 1]).isEmpty == false)
    }

    @Test(arguments: formats)
    func negativeZeroAndNonFiniteNumbersSurvive(_ format: PropertyListSerializer.Format) throws {
        let plist = PropertyListSerializer(format: format)
        for double in [-0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1] {
            #expect(try plist.deserialize(plist.serialize(.double(double))) == .double(double), "\(double)")
        }
    }

    @Test func xmlWritesApplesLayout() throws {
        let bytes = try PropertyListSerializer(format: .xml).serialize(["b": [1, true], "a": .dictionary([:])])
        #expect(
            String(decoding: bytes.dropFirst(), as: UTF8.self) == """
                <?xml version="1.0" encoding="UTF-8"?>
                <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
                <plist version="1.0">
                <dict>
                \t<key>a</key>
                \t<dict/>
                \t<key>b</key>
                \t<array>
                \t\t<integer>1</integer>
                \t\t<true/>
                \t</array>
                </dict>
                </plist>

                """
        )
    }

    @Test(arguments: [
        "", "<plist/>", "<plist version=\"1.0\"></plist>", "<plist><string>a</string>", "<plist><foo/></plist>",
        "<plist><integer>12a</integer></plist>", "<plist><integer>9223372036854775808</integer></plist>",
        "<plist><real>abc</real></plist>", "<plist><date>2024-02-30T00:00:00Z</date></plist>",
        "<plist><date>2024-06-10 06:13:20</date></plist>", "<plist><data>!!!!</data></plist>",
        "<plist><dict><key>a</key><true/><key>a</key><false/></dict></plist>",
        "<plist><dict><string>a</string></dict></plist>", "<plist><string>a&#1;b</string></plist>",
        "<plist><string>a&bogus;b</string></plist>", "<plist><string>a\u{1}b</string></plist>",
        "<plist><dict><key>a\u{FFFF}</key><true/></dict></plist>", "<plist><string>a</string></plist>trailing",
        "<plist><string>unterminated</plist>", "<plist><array><true/></dict></plist>",
        "<plist><dict><key>$null</key><true/><key>$$null</key><true/></dict></plist>",
        "<plist>" + String(repeating: "<array>", count: 200) + "</plist>",
    ])
    func refusesMalformedXML(_ text: String) throws {
        let xml = PropertyListSerializer(format: .xml)
        let error = #expect(throws: SessionError.self) { try xml.deserialize([0x23] + Array(text.utf8)) }
        #expect(error?.code == .malformed, "\(text): \(String(describing: error))")
    }

    @Test func acceptsXMLFeaturesOtherWritersUse() throws {
        let text = """
            <?xml version="1.0"?>
            <!-- written elsewhere -->
            <!DOCTYPE plist SYSTEM "x">
            <plist version="1.0"><dict>
              <key>a</key> <string><![CDATA[<raw> & ]]>&#x41;&quot;</string>
              <key>b</key><data>
                AAEC
                /w==
              </data>
              <key>c</key><string/>
              <key>d</key><real>1E3</real>
            </dict></plist>
            """
        let value = try PropertyListSerializer(format: .xml).deserialize([0x23] + Array(text.utf8))
        #expect(value == ["a": "<raw> & A\"", "b": .bytes([0, 1, 2, 255]), "c": "", "d": .double(1000)])
    }

    // MARK: Hostile binary property lists

    /// Builds a bplist00 from raw object bytes, one-byte offsets and references.
    private func bplist(_ objects: [[UInt8]], top: UInt8 = 0, referenceSize: UInt8 = 1) -> [UInt8] {
        var output = Array("bplist00".utf8)
        var offsets: [UInt8] = []
        for object in objects {
            offsets.append(UInt8(output.count))
            output += object
        }
        let table = UInt8(output.count)
        output += offsets
        output += [0, 0, 0, 0, 0, 0, 1, referenceSize]
        output += [0, 0, 0, 0, 0, 0, 0, UInt8(objects.count)]
        output += [0, 0, 0, 0, 0, 0, 0, top]
        output += [0, 0, 0, 0, 0, 0, 0, table]
        return [0x22] + output
    }

    @Test func refusesHostileBinaryPropertyLists() throws {
        let binary = PropertyListSerializer(format: .binary)
        var cases: [(String, [UInt8])] = [
            ("empty", [0x22]),
            ("wrong magic", [0x22] + Array("bplist01".utf8) + Array(repeating: 0, count: 32)),
            ("an array that contains itself", bplist([[0xA1, 0x00]])),
            ("a reference past the objects", bplist([[0xA1, 0x05]])),
            ("a non-string key", bplist([[0xD1, 0x01, 0x01], [0x10, 0x01]])),
            ("a duplicate key", bplist([[0xD2, 0x01, 0x01, 0x02, 0x02], [0x51, 0x61], [0x09]])),
            ("a lone surrogate", bplist([[0x61, 0xD8, 0x00]])),
            ("a non-ASCII byte in an ASCII string", bplist([[0x51, 0xFF]])),
            ("a length past the end", bplist([[0x4F, 0x13, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]])),
            ("an unsupported marker (UID)", bplist([[0x80, 0x01]])),
            ("a null object", bplist([[0x00]])),
            (
                "a 128-bit integer beyond Int64",
                bplist([[0x14] + Array(repeating: 0, count: 8) + [0x80] + Array(repeating: 0, count: 7)])
            ),
            ("a top object out of range", bplist([[0x09]], top: 3)),
        ]
        // Thirty arrays, each holding the next one twice: 2^30 visits from 200 bytes.
        var layers: [[UInt8]] = (0..<30).map { [0xA2, UInt8($0 + 1), UInt8($0 + 1)] }
        layers.append([0x09])
        cases.append(("shared containers that expand exponentially", bplist(layers)))
        for (name, input) in cases {
            let error = #expect(throws: SessionError.self, "\(name)") { try binary.deserialize(input) }
            #expect(error?.code == .malformed, "\(name): \(String(describing: error))")
        }
    }

    @Test func readsSharedObjectsWithinBudget() throws {
        // One string referenced three times, as writers that deduplicate produce.
        let input = bplist([[0xA3, 0x01, 0x01, 0x01], [0x51, 0x78]])
        #expect(try PropertyListSerializer(format: .binary).deserialize(input) == ["x", "x", "x"])
    }
}
