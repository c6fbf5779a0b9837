public import SessionPipeline

/// A record value type the conformance suite knows how to exercise: `[UInt8]` for stores of bytes
/// and ``SessionPipeline/SessionValue`` for stores of values. Conform your own value type to run
/// the suite over a store of it.
public protocol ConformanceValue: Sendable, Equatable {
    /// Named values covering every shape the store promises to hold, edge cases included.
    static func samples(for capabilities: StoreCapabilities) -> [(name: String, value: Self)]
    /// Named values the store promises to refuse at write time (kinds it cannot hold).
    static func refused(for capabilities: StoreCapabilities) -> [(name: String, value: Self)]
    /// A random value the store can hold.
    static func random(using generator: inout SeededGenerator, capabilities: StoreCapabilities) -> Self
    /// A small value that differs for every `index`.
    static func distinct(_ index: Int) -> Self
}

extension Array: ConformanceValue where Element == UInt8 {
    /// Empty, one byte, every byte value, a 64 KiB pattern.
    public static func samples(for capabilities: StoreCapabilities) -> [(name: String, value: [UInt8])] {
        [
            ("empty", []),
            ("one byte", [0]),
            ("every byte value", (0...255).map { UInt8($0) }),
            ("a tag-like first byte", [0x01, 0x20, 0x10]),
            ("64 KiB", (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }),
        ]
    }

    /// Nothing: any bytes can be stored.
    public static func refused(for capabilities: StoreCapabilities) -> [(name: String, value: [UInt8])] {
        []
    }

    /// Up to 4 KiB of random bytes.
    public static func random(using generator: inout SeededGenerator, capabilities: StoreCapabilities) -> [UInt8] {
        let count = Int.random(in: 0...4096, using: &generator)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The decimal digits of `index`.
    public static func distinct(_ index: Int) -> [UInt8] {
        Array(String(index).utf8)
    }
}

extension SessionValue: ConformanceValue {
    /// Every kind, at the top level and nested, with its edge cases: integer extremes, negative
    /// zero, subnormal and extreme doubles, unicode and escape-worthy strings, every byte value,
    /// dates before 1970 and with microseconds, empty and deep containers, keys that look like
    /// format tags. Kinds outside ``StoreCapabilities/valueKinds`` are left out.
    public static func samples(for capabilities: StoreCapabilities) -> [(name: String, value: SessionValue)] {
        let all: [(String, SessionValue)] = [
            ("null", .null),
            ("true", .bool(true)),
            ("false", .bool(false)),
            ("zero", .int(0)),
            ("minus one", .int(-1)),
            ("Int64.min", .int(.min)),
            ("Int64.max", .int(.max)),
            ("2^53 + 1", .int((1 << 53) + 1)),
            ("-2^31", .int(-(1 << 31))),
            ("255", .int(255)),
            ("double zero", .double(0)),
            ("negative zero", .double(-0.0)),
            ("one tenth", .double(0.1)),
            ("pi", .double(.pi)),
            ("whole double", .double(3)),
            ("largest double", .double(.greatestFiniteMagnitude)),
            ("smallest subnormal", .double(.leastNonzeroMagnitude)),
            ("negative double", .double(-1234.5678e-20)),
            ("empty string", .string("")),
            ("ascii string", .string("hello, world")),
            ("unicode string", .string("héllo wörld — 日本語 🌍👩‍👩‍👧")),
            ("escape-worthy string", .string("quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7}")),
            ("long string", .string(String(repeating: "session ", count: 8192))),
            ("empty bytes", .bytes([])),
            ("every byte value", .bytes((0...255).map { UInt8($0) })),
            ("epoch", .date(SessionDate(microsecondsSince1970: 0))),
            ("date with microseconds", .date(SessionDate(microsecondsSince1970: 1_718_000_000_123_456))),
            ("date before 1970", .date(SessionDate(microsecondsSince1970: -1_234_567_890_123_457))),
            ("far future date", .date(SessionDate(microsecondsSince1970: 253_402_300_799_999_999))),
            ("empty array", .array([])),
            ("empty dictionary", .dictionary([:])),
            ("mixed array", .array([.int(1), .string("two"), .double(3.5), .null, .bool(false)])),
            (
                "nested containers",
                .dictionary([
                    "cart": .array([
                        .dictionary(["sku": .string("SKU-1"), "qty": .int(2), "price": .double(9.99)]),
                        .dictionary(["sku": .string("SKU-2"), "qty": .int(1), "price": .double(120)]),
                    ]),
                    "user": .dictionary(["id": .int(42), "roles": .array([.string("admin")])]),
                    "csrf": .bytes([0xDE, 0xAD, 0xBE, 0xEF]),
                    "seen": .date(SessionDate(microsecondsSince1970: 1_718_000_000_000_001)),
                ])
            ),
            (
                "keys that look like tags",
                .dictionary([
                    "$bytes": .string("AAAA"), "$date": .int(5), "$$x": .null, "$int": .string("1"), "": .bool(true),
                ])
            ),
            ("unicode keys", .dictionary(["ключ": .int(1), "😀": .int(2), "a\"b": .int(3)])),
            ("deep nesting", (0..<32).reduce(SessionValue.int(7)) { inner, _ in .array([inner]) }),
        ]
        return all.filter { capabilities.valueKinds.isSuperset(of: $0.1.kindsUsed) }
    }

    /// One value of each kind the store does not hold.
    public static func refused(for capabilities: StoreCapabilities) -> [(name: String, value: SessionValue)] {
        let representatives: [SessionValue.Kind: SessionValue] = [
            .null: .null, .bool: .bool(true), .int: .int(1), .double: .double(1.5), .string: .string("s"),
            .bytes: .bytes([1]), .date: .date(SessionDate(microsecondsSince1970: 1)), .array: .array([]),
            .dictionary: .dictionary([:]),
        ]
        return SessionValue.Kind.allCases.compactMap { kind in
            capabilities.valueKinds.contains(kind) ? nil : ("a \(kind)", representatives[kind]!)
        }
    }

    /// A random value of the kinds the store holds, up to four levels deep.
    public static func random(using generator: inout SeededGenerator, capabilities: StoreCapabilities) -> SessionValue {
        random(using: &generator, kinds: capabilities.valueKinds, depth: 0)
    }

    /// A random value built only from `kinds`, nesting at most four levels below `depth`.
    public static func random(using generator: inout SeededGenerator, kinds: Kinds, depth: Int) -> SessionValue {
        var choices = kinds.members
        if depth >= 4 {
            choices.removeAll { $0 == .array || $0 == .dictionary }
        }
        guard let kind = choices.randomElement(using: &generator) else { return .dictionary([:]) }
        switch kind {
        case .null:
            return .null
        case .bool:
            return .bool(Bool.random(using: &generator))
        case .int:
            let widths: [Int64] = [0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, .max]
            let width = widths.randomElement(using: &generator)!
            return .int(Int64.random(in: -width...width, using: &generator))
        case .double:
            let bits = UInt64.random(in: 0...UInt64.max, using: &generator)
            let double = Double(bitPattern: bits)
            return .double(double.isFinite ? double : Double.random(in: -1e6...1e6, using: &generator))
        case .string:
            let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "\n", "é", "日", "🌍", "\u{1}", "$"]
            let length = Int.random(in: 0...24, using: &generator)
            return .string(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        case .bytes:
            let length = Int.random(in: 0...48, using: &generator)
            return .bytes((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case .date:
            let micros = Int64.random(in: -4_000_000_000_000_000...4_000_000_000_000_000, using: &generator)
            return .date(SessionDate(microsecondsSince1970: micros))
        case .array:
            let count = Int.random(in: 0...5, using: &generator)
            return .array((0..<count).map { _ in random(using: &generator, kinds: kinds, depth: depth + 1) })
        case .dictionary:
            let count = Int.random(in: 0...5, using: &generator)
            var entries = SessionDictionary()
            for _ in 0..<count {
                let key = ["user", "$bytes", "cart", "é", "", "x\(Int.random(in: 0...99, using: &generator))"]
                    .randomElement(using: &generator)!
                entries[key] = random(using: &generator, kinds: kinds, depth: depth + 1)
            }
            return .dictionary(entries)
        }
    }

    /// A dictionary holding `index`.
    public static func distinct(_ index: Int) -> SessionValue {
        .dictionary(["n": .int(Int64(index))])
    }
}
