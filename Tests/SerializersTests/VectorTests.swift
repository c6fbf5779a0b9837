import Foundation
import Serializers
import SessionPipeline
import Testing

/// One known-answer vector of `docs/vectors/serializers.json`.
///
/// The file is itself a document in this project's JSON representation (`docs/FORMAT.md`): one
/// vector per line, each `{"format", "hex", "name", "value"}` where `value` is the session value
/// (bytes as `{"$bytes": …}`, dates as `{"$date": …}`, integers beyond 2^53 as `{"$int": …}`,
/// `$`-keys doubled) and `hex` the serializer's exact output, tag byte included.
struct Vector: Sendable, CustomTestStringConvertible {
    let name: String
    let format: String
    let value: SessionValue
    let hex: String

    var testDescription: String { "\(format): \(name)" }

    var entry: SessionValue {
        ["name": .string(name), "format": .string(format), "value": value, "hex": .string(hex)]
    }
}

/// The repository root, from this file's location.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let vectorsURL = repositoryRoot.appendingPathComponent("docs/vectors/serializers.json")

func serializer(named name: String) -> (any SessionSerializer)? {
    StandardFormats.all.first { $0.name == name }
}

func loadVectors() -> [Vector] {
    guard let text = try? String(contentsOf: vectorsURL, encoding: .utf8),
        let entries = try? JSONSerializer().value(fromText: text).arrayValue
    else { return [] }
    return entries.compactMap { entry in
        guard let fields = entry.dictionaryValue, let name = fields["name"]?.stringValue,
            let format = fields["format"]?.stringValue, let value = fields["value"],
            let hex = fields["hex"]?.stringValue
        else { return nil }
        return Vector(name: name, format: format, value: value, hex: hex)
    }
}

/// The values every format's vectors cover.
let vectorValues: [(String, SessionValue)] = [
    ("null", .null),
    ("true", true),
    ("false", false),
    ("zero", 0),
    ("largest positive fixint", 127),
    ("smallest uint 8", 128),
    ("largest uint 16", 65_535),
    ("smallest uint 32", 65_536),
    ("beyond uint 32", .int(4_294_967_296)),
    ("minus one", -1),
    ("smallest negative fixint", -32),
    ("int 8", -33),
    ("int 16", -129),
    ("Int64.min", .int(.min)),
    ("Int64.max", .int(.max)),
    ("2^53 + 1", .int(9_007_199_254_740_993)),
    ("a half, exact as float 32", 0.5),
    ("one tenth", 0.1),
    ("negative zero", .double(-0.0)),
    ("smallest subnormal", .double(.leastNonzeroMagnitude)),
    ("empty string", ""),
    ("unicode string", "héllo wörld, 日本語 🌍"),
    ("string needing escapes", "quote \" backslash \\ newline \n tab \t"),
    ("32-byte string", .string(String(repeating: "s", count: 32))),
    ("empty bytes", .bytes([])),
    ("bytes", .bytes([0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF])),
    ("the epoch", .date(SessionDate(microsecondsSince1970: 0))),
    ("a date in whole seconds", .date(SessionDate(microsecondsSince1970: 1_718_000_000_000_000))),
    ("a date with microseconds", .date(SessionDate(microsecondsSince1970: 1_718_000_000_123_456))),
    ("a date before 1970", .date(SessionDate(microsecondsSince1970: -86_400_500_000))),
    ("empty array", .array([])),
    ("empty dictionary", .dictionary([:])),
    ("sixteen-element array", .array((0..<16).map { .int(Int64($0)) })),
    (
        "nested containers",
        [
            "user": ["id": 4_821_937, "roles": ["customer", "beta-tester"]],
            "cart": [["sku": "SKU-1", "qty": 2, "price": 9.99]],
        ]
    ),
    ("keys that look like tags", ["$bytes": "AA==", "$date": 1, "$$x": .null, "plain": true]),
    ("unicode keys", ["ключ": 1, "😀": 2]),
]

struct VectorTests {
    @Test func thereAreAtLeastFortyVectorsCoveringEveryFormatAndKind() throws {
        let vectors = loadVectors()
        #expect(vectors.count >= 40)
        #expect(Set(vectors.map(\.format)) == ["json", "binary", "plist-binary", "plist-xml"])
        let kinds = vectors.reduce(SessionValue.Kinds()) { $0.union($1.value.kindsUsed) }
        #expect(kinds == .all)
    }

    @Test(arguments: loadVectors())
    func everyVectorDecodesToItsValueAndReencodesToItsHex(_ vector: Vector) throws {
        let format = try #require(serializer(named: vector.format))
        let expected = vector.value
        let bytes = try #require(hexBytes(vector.hex))
        #expect(try format.deserialize(bytes) == expected)
        #expect(hexString(try format.serialize(expected)) == vector.hex)
    }

    @Test func pythonsMsgpackAndPlistlibReadEveryVector() throws {
        let checker = repositoryRoot.appendingPathComponent("scripts/check_vectors.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", checker, vectorsURL.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        print(text)
        if process.terminationStatus == 3 && ProcessInfo.processInfo.environment["CI"] == nil {
            // Outside CI a missing python3 or msgpack skips this check, with the reason printed above.
            return
        }
        #expect(process.terminationStatus == 0, "\(text)")
    }

    /// Rewrites `docs/vectors/serializers.json` from the current serializers. Run with
    /// `SESSION_WRITE_VECTORS=1 swift test --filter VectorTests` only when a format changes on
    /// purpose: the vectors are the promise that old data keeps reading.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SESSION_WRITE_VECTORS"] == "1"))
    func writeVectors() throws {
        let json = JSONSerializer()
        var lines: [String] = []
        for format in StandardFormats.all {
            for (name, value) in vectorValues {
                let vector = Vector(
                    name: name, format: format.name, value: value, hex: hexString(try format.serialize(value)))
                lines.append("  " + (try json.text(vector.entry)))
            }
        }
        try FileManager.default.createDirectory(
            at: vectorsURL.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try Data(("[\n" + lines.joined(separator: ",\n") + "\n]\n").utf8).write(to: vectorsURL)
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
            return nil
        }
        bytes.append(byte)
    }
    return bytes
}
