import Foundation
import Serializers
import SessionPipeline
import Testing

struct MessagePackSerializerTests {
    let binary = MessagePackSerializer()

    struct Case: Sendable, CustomTestStringConvertible {
        let value: SessionValue
        let hex: String
        var testDescription: String { hex }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    static let encodings: [Case] = [
        (SessionValue.null, "c0"), (false, "c2"), (true, "c3"),
        (.int(0), "00"), (.int(127), "7f"), (.int(128), "cc80"), (.int(255), "ccff"), (.int(256), "cd0100"),
        (.int(65_535), "cdffff"), (.int(65_536), "ce00010000"), (.int(4_294_967_296), "cf0000000100000000"),
        (.int(-1), "ff"), (.int(-32), "e0"), (.int(-33), "d0df"), (.int(-128), "d080"), (.int(-129), "d1ff7f"),
        (.int(-32_768), "d18000"), (.int(-32_769), "d2ffff7fff"), (.int(.min), "d38000000000000000"),
        (.double(0.5), "ca3f000000"), (.double(-0.0), "ca80000000"), (.double(0.1), "cb3fb999999999999a"),
        (.double(.infinity), "ca7f800000"),
        (.string(""), "a0"), (.string("abc"), "a3616263"),
        (.string(String(repeating: "x", count: 31)), "bf" + String(repeating: "78", count: 31)),
        (.string(String(repeating: "x", count: 32)), "d920" + String(repeating: "78", count: 32)),
        (.bytes([]), "c400"), (.bytes([1, 2]), "c4020102"),
        (.date(SessionDate(microsecondsSince1970: 0)), "d6ff00000000"),
        (.date(SessionDate(microsecondsSince1970: 1_718_000_000_000_000)), "d6ff66669980"),
        (.date(SessionDate(microsecondsSince1970: 1_718_000_000_000_001)), "d7ff00000fa066669980"),
        (.date(SessionDate(microsecondsSince1970: -1_000_000)), "c70cff00000000ffffffffffffffff"),
        (.array([]), "90"), (.array([1, "a"]), "9201a161"),
        (.array(Array(repeating: .int(0), count: 16)), "dc0010" + String(repeating: "00", count: 16)),
        (.dictionary([:]), "80"), (["b": 1, "a": 2], "82a16102a16201"),
    ].map { Case(value: $0.0, hex: $0.1) }

    @Test(arguments: encodings)
    func writesTheSmallestEncoding(_ encoding: Case) throws {
        let bytes = try binary.serialize(encoding.value)
        #expect(bytes.first == 0x21)
        #expect(Self.hex(Array(bytes.dropFirst())) == encoding.hex)
        #expect(try binary.deserialize(bytes) == encoding.value)
    }

    @Test func readsNonCanonicalEncodingsOtherWritersProduce() throws {
        let cases: [(String, SessionValue)] = [
            ("cd0001", .int(1)), ("d3ffffffffffffffff", .int(-1)), ("cb3ff0000000000000", .double(1)),
            ("da0001 61".replacingOccurrences(of: " ", with: ""), "a"), ("c50001ff", .bytes([0xFF])),
            ("dc0000", .array([])), ("de0000", .dictionary([:])),
            // timestamp 64 with nanoseconds that round to microseconds: 1,499 ns → 1 µs
            (
                "d7ff" + Self.hex(withUnsafeBytes(of: (UInt64(1499) << 34 | 5).bigEndian) { Array($0) }),
                .date(SessionDate(microsecondsSince1970: 5_000_001))
            ),
        ]
        for (hex, value) in cases {
            #expect(try binary.deserialize([0x21] + Self.bytes(hex)) == value, "\(hex)")
        }
    }

    @Test(arguments: [
        "", "c1", "d90561", "db ffffffff", "dd ffffffff", "df ffffffff", "c6 ffffffff 00", "81 01 01",
        "82 a161 01 a161 02", "a1 ff", "a2 c3 28", "d4 05 00", "c7 03 ff 000000", "d7ff ffffffff ffffffff",
        "c70cff 3b9aca00 0000000000000000", "cf ffffffffffffffff", "01 02", "91", "92 01", "ca 0000",
        "c7 0c ff 00000000 7fffffffffffffff",
        String(repeating: "91", count: 200) + "01",
    ])
    func refusesMalformedInputWithATypedError(_ spaced: String) throws {
        let input = [0x21] + Self.bytes(spaced.replacingOccurrences(of: " ", with: ""))
        let error = #expect(throws: SessionError.self) { try binary.deserialize(input) }
        #expect(error?.code == .malformed, "\(spaced): \(String(describing: error))")
        #expect(error?.layer == "Binary")
    }

    @Test func aHeaderClaimingFourGigabytesFailsWithoutAllocatingThem() throws {
        // 5 bytes of input claiming a 4 GiB string, array and map: each fails at once.
        for head: UInt8 in [0xDB, 0xC6, 0xDD, 0xDF] {
            let error = #expect(throws: SessionError.self) {
                try binary.deserialize([0x21, head, 0xFF, 0xFF, 0xFF, 0xFF])
            }
            #expect(error?.message.contains("4294967295") == true, "\(String(describing: error))")
        }
    }

    @Test func outputIsSmallerThanJSONForTheReferenceSession() throws {
        let text = try #require(referenceSession("session_1k"))
        let value = try JSONSerializer().value(fromText: text)
        let packed = try binary.serialize(value)
        let json = try JSONSerializer().serialize(value)
        #expect(packed.count < json.count)
        #expect(try binary.deserialize(packed) == value)
    }
}
