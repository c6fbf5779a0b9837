import Serializers
import SessionPipeline
import SessionPipelineTesting
import Testing

struct JSONSerializerTests {
    let json = JSONSerializer()

    private func text(_ value: SessionValue) throws -> String {
        let bytes = try json.serialize(value)
        #expect(bytes.first == 0x20)
        return String(decoding: bytes.dropFirst(), as: UTF8.self)
    }

    private func read(_ text: String) throws -> SessionValue {
        try json.deserialize([0x20] + Array(text.utf8))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let value: SessionValue
        let text: String
        var testDescription: String { text }
    }

    static let canonicalForms: [Case] = [
        (SessionValue.null, "null"),
        (true, "true"),
        (["b": 1, "a": [true, .null]], #"{"a":[true,null],"b":1}"#),
        (.int(9_007_199_254_740_991), "9007199254740991"),
        (.int(-9_007_199_254_740_991), "-9007199254740991"),
        (.int(9_007_199_254_740_992), #"{"$int":"9007199254740992"}"#),
        (.int(.min), #"{"$int":"-9223372036854775808"}"#),
        (.double(1), "1.0"),
        (.double(-0.0), "-0.0"),
        (.double(0.1), "0.1"),
        (.double(1e-7), "1e-07"),
        (.double(.leastNonzeroMagnitude), "5e-324"),
        (.double(.greatestFiniteMagnitude), "1.7976931348623157e+308"),
        (.string("é\"\\\n\u{1}/"), #""é\"\\\n\u0001/""#),
        (.bytes([0, 1, 2, 0xFF]), #"{"$bytes":"AAEC/w=="}"#),
        (.bytes([]), #"{"$bytes":""}"#),
        (.date(SessionDate(microsecondsSince1970: 1_718_000_000_000_000)), #"{"$date":1718000000}"#),
        (.date(SessionDate(microsecondsSince1970: 1_718_000_000_250_000)), #"{"$date":1718000000.25}"#),
        (.date(SessionDate(microsecondsSince1970: 1_718_000_000_000_001)), #"{"$date":1718000000.000001}"#),
        (.date(SessionDate(microsecondsSince1970: -1)), #"{"$date":-0.000001}"#),
        (["$bytes": "x", "$$y": 1, "z": 2], #"{"$$$y":1,"$$bytes":"x","z":2}"#),
    ].map { Case(value: $0.0, text: $0.1) }

    @Test(arguments: canonicalForms)
    func writesTheDocumentedCanonicalForm(_ form: Case) throws {
        #expect(try text(form.value) == form.text)
        #expect(try read(form.text) == form.value)
    }

    @Test func equalValuesGiveEqualBytes() throws {
        var forward: [String: SessionValue] = [:]
        var backward: [String: SessionValue] = [:]
        for index in 0..<50 {
            forward["key\(index)"] = .int(Int64(index))
        }
        for index in (0..<50).reversed() {
            backward["key\(index)"] = .int(Int64(index))
        }
        #expect(
            try json.serialize(.dictionary(SessionDictionary(forward)))
                == json.serialize(.dictionary(SessionDictionary(backward))))
    }

    @Test func nonFiniteDoublesAreRefusedAtWriteTime() throws {
        for double in [Double.nan, .infinity, -.infinity] {
            let error = #expect(throws: SessionError.self) { try json.serialize(["x": [.double(double)]]) }
            #expect(error?.code == .invalidValue)
        }
    }

    @Test func readsJSONWrittenByOtherPrograms() throws {
        let foreign = """
             { "name" : "J\\u00e9r\\u00f4me \\ud83c\\udf0d", "n": 12345678901234, "x": 1E3, "neg": -0,
               "$ref": "#/a", "list": [ ] , "esc": "\\/\\b\\f\\r\\t" }\t\n
            """
        let value = try read(foreign)
        let entries = try #require(value.dictionaryValue)
        #expect(entries["name"] == "Jérôme 🌍")
        #expect(entries["n"] == .int(12_345_678_901_234))
        #expect(entries["x"] == .double(1000))
        #expect(entries["neg"] == .int(0))
        #expect(entries["$ref"] == "#/a")
        #expect(entries["list"] == .array([]))
        #expect(entries["esc"] == "/\u{8}\u{C}\r\t")
    }

    @Test func readsTaggedValuesLeniently() throws {
        #expect(try read(#"{"$date": 1.5e9}"#) == .date(SessionDate(microsecondsSince1970: 1_500_000_000_000_000)))
        #expect(try read(#"{"$date": 10.1234567}"#) == .date(SessionDate(microsecondsSince1970: 10_123_457)))
        #expect(try read(#"{"$int": "42"}"#) == .int(42))
        #expect(try read(#"{"$bytes": "AA==", "other": 1}"#) == ["$bytes": "AA==", "other": 1])
        #expect(try read(#"{"$date": "yesterday"}"#) == ["$date": "yesterday"])
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", #"{"a":1,}"#, "tru", "nul", "01", "1.", "-", ".5", "1e", "+1", #""unterminated"#,
        #""\x""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\u12g4""#, "\"a\u{1}b\"", "1 2", "[1 2]",
        #"{"a" 1}"#, #"{1: 2}"#, #"{"a":1,"a":2}"#, #"{"$$a":1,"$a":2}"#, "9223372036854775808", "-9223372036854775809",
        "1e400", #"{"$bytes":"!!!!"}"#, #"{"$bytes":"AAE"}"#, #"{"$bytes":"AB=="}"#, #"{"$int":"01"}"#,
        #"{"$int":"9223372036854775808"}"#, #"{"$int":"-"}"#, #"{"$date":1e400}"#,
        #"{"$date":99999999999999999999}"#, "[" + String(repeating: "[", count: 200) + "]",
    ])
    func refusesMalformedTextWithATypedError(_ text: String) throws {
        let error = #expect(throws: SessionError.self) { try read(text) }
        #expect(error?.code == .malformed, "\(text): \(String(describing: error))")
        #expect(error?.layer == "JSON")
    }

    @Test func refusesInvalidUTF8() throws {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            let error = #expect(throws: SessionError.self) { try json.deserialize([0x20] + bytes) }
            #expect(error?.code == .malformed)
        }
    }

    @Test func refusesAnotherFormatsTag() throws {
        let error = #expect(throws: SessionError.self) { try json.deserialize([0x21, 0x90]) }
        #expect(error?.code == .unknownFormat)
        #expect(throws: SessionError.self) { try json.deserialize([]) }
    }

    @Test func nestingIsLimitedOnBothSides() throws {
        let limited = JSONSerializer(maximumDepth: 8)
        let deep = (0..<8).reduce(SessionValue.int(1)) { inner, _ in .array([inner]) }
        let tooDeep = SessionValue.array([deep])
        let bytes = try limited.serialize(deep)
        #expect(try limited.deserialize(bytes) == deep)
        let error = #expect(throws: SessionError.self) { try limited.serialize(tooDeep) }
        #expect(error?.code == .invalidValue)
        let readError = #expect(throws: SessionError.self) { try limited.deserialize(try json.serialize(tooDeep)) }
        #expect(readError?.code == .malformed)
    }

    @Test func randomValuesRoundTrip() throws {
        var generator = SeededGenerator.fromEnvironment()
        print("JSON round-trip seed: \(generator.seed)")
        for index in 0..<2000 {
            let value = SessionValue.random(using: &generator, kinds: .all, depth: 0)
            let bytes = try json.serialize(value)
            #expect(try json.deserialize(bytes) == value, "value \(index), seed \(generator.seed)")
            #expect(try json.serialize(json.deserialize(bytes)) == bytes, "value \(index) is not canonical")
        }
    }

    /// Number literals read as the standard library's full conversion reads them, bit for bit:
    /// those the reader computes in one rounded step (few digits, small exponents) and those it
    /// hands to the full conversion.
    @Test func doublesReadAsTheFullConversionReadsThem() throws {
        var generator = SeededGenerator.fromEnvironment()
        print("JSON number seed: \(generator.seed)")
        func digits(_ count: Int) -> String {
            String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
        }
        for index in 0..<20_000 {
            var literal = Bool.random(using: &generator) ? "-" : ""
            let integer = digits(Int.random(in: 1...18, using: &generator))
            literal += integer.count > 1 && integer.first == "0" ? "1" + integer.dropFirst() : integer
            if Int.random(in: 0..<4, using: &generator) > 0 {
                literal += "." + digits(Int.random(in: 1...12, using: &generator))
            }
            if Int.random(in: 0..<3, using: &generator) == 0 {
                literal +=
                    ["e", "E"].randomElement(using: &generator)! + ["", "+", "-"].randomElement(using: &generator)!
                literal += String(Int.random(in: 0...40, using: &generator))
            }
            guard literal.contains(where: { ".eE".contains($0) }) else { continue }
            let expected = try #require(Double(literal))
            let value = try read(literal)
            guard case .double(let read) = value else {
                Issue.record("\(literal) read as \(value), seed \(generator.seed), literal \(index)")
                continue
            }
            #expect(read.bitPattern == expected.bitPattern, "\(literal), seed \(generator.seed), literal \(index)")
        }
        for (literal, expected) in [
            ("-0.0", -0.0), ("0.1", 0.1), ("91.57", 91.57), ("1e22", 1e22), ("1e23", 1e23),
            ("123456789012345.6", 123456789012345.6),
            ("9007199254740993.0", 9007199254740993.0), ("1e-22", 1e-22), ("4.9e-324", 5e-324),
            ("0.000000000000000000001", 1e-21),
        ] {
            guard case .double(let read) = try read(literal) else {
                Issue.record("\(literal) did not read as a double")
                continue
            }
            #expect(read.bitPattern == expected.bitPattern, "\(literal)")
        }
    }

    @Test func integersReadToTheEdgesOfInt64() throws {
        #expect(try read("9223372036854775807") == .int(.max))
        #expect(try read("-9223372036854775808") == .int(.min))
        #expect(try read("-0") == .int(0))
        #expect(try read("[0,-1,10]") == [0, -1, 10])
        for text in ["18446744073709551616", "-18446744073709551616", "99999999999999999999999"] {
            let error = #expect(throws: SessionError.self) { try read(text) }
            #expect(error?.code == .malformed, "\(text)")
        }
    }

    /// Every character that must be escaped, at every position of strings up to 20 bytes (both
    /// sides of the eight-byte steps the writer and reader scan in), as a value and as a key.
    @Test func escapesAtEveryPositionRoundTrip() throws {
        let specials: [Character] = ["\"", "\\", "\u{0}", "\u{1F}", "\n", "é"]
        for length in 0...20 {
            for position in 0..<max(length, 1) {
                for special in specials {
                    var characters = Array(repeating: Character("a"), count: length)
                    if length > 0 { characters[position] = special }
                    let string = String(characters)
                    let expected = string.unicodeScalars.map { scalar -> String in
                        switch scalar {
                        case "\"": return "\\\""
                        case "\\": return "\\\\"
                        case "\n": return "\\n"
                        case "\u{0}": return "\\u0000"
                        case "\u{1F}": return "\\u001f"
                        default: return String(scalar)
                        }
                    }.joined()
                    #expect(try text(.string(string)) == "\"\(expected)\"", "\(length), \(position)")
                    #expect(try read(text(.string(string))) == .string(string))
                    // Alone and beside plain keys (read as written, in order), and beside a `$`
                    // key (read through the sorting path).
                    for keyed: SessionValue in [[string: 1], [string: 1, "~": 2], [string: 1, "$" + string: 2]] {
                        #expect(try read(text(keyed)) == keyed, "\(length), \(position)")
                    }
                }
            }
        }
    }

    /// Keys out of order, escaped, or with a doubled `$` still make the same sorted dictionary,
    /// and a key repeated in another spelling is still a duplicate.
    @Test func keysInAnyOrderOrSpellingMakeTheSameDictionary() throws {
        let expected: SessionValue = ["$a": 3, "a": 1, "b": 2, "é": 4]
        for text in [
            #"{"a":1,"b":2,"$$a":3,"é":4}"#, #"{"b":2,"a":1,"é":4,"$$a":3}"#, #"{"\u0061":1,"b":2,"$$a":3,"\u00e9":4}"#,
            #"{"$$a":3,"a":1,"b":2,"é":4}"#, #"{"é":4,"$$a":3,"b":2,"\u0061":1}"#,
        ] {
            #expect(try read(text) == expected, "\(text)")
        }
        for text in [#"{"a":1,"\u0061":2}"#, #"{"b":1,"a":2,"b":3}"#, #"{"$$a":1,"$a":2}"#, #"{"a":1,"a":1}"#] {
            let error = #expect(throws: SessionError.self) { try read(text) }
            #expect(error?.code == .malformed, "\(text)")
        }
    }

    @Test func readsTheReferenceSessions() throws {
        for name in ["session_1k", "session_8k"] {
            let text = try #require(referenceSession(name))
            let value = try json.value(fromText: text)
            #expect(value.dictionaryValue?["username"] == "j.doe")
            #expect(try json.value(fromText: json.text(value)) == value)
        }
    }
}
