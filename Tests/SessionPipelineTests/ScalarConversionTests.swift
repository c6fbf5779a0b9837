import SessionPipelineTesting
import Testing

@testable import SessionPipeline

/// The scalar shortcut of ``SessionValueEncoder`` and ``SessionValueDecoder`` (no `Codable`
/// machinery for `Int`, `Int64`, `String`, `Bool` and `Double`) against the general path, which
/// the same types take as array elements: every value converts the same way or fails the same way.
struct ScalarConversionTests {
    static func randomValue(using generator: inout SeededGenerator) -> SessionValue {
        let interesting: [Int64] = [0, 1, -1, .max, .min, 1 << 53, (1 << 53) + 1, Int64(Int32.max) + 1]
        switch generator.next() % 7 {
        case 0: return .int(interesting[Int(generator.next() % UInt64(interesting.count))])
        case 1: return .int(Int64(bitPattern: generator.next()))
        case 2: return .double([0.5, -0, 3, 1e300, .infinity, 9_007_199_254_740_993][Int(generator.next() % 6)])
        case 3: return .double(Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF))
        case 4: return .bool(generator.next() % 2 == 0)
        case 5: return .string(String(repeating: "é", count: Int(generator.next() % 20)))
        default: return [.null, .bytes([1, 2]), .array([1])][Int(generator.next() % 3)]
        }
    }

    /// Decodes `value` as `T` directly and as the element of a one-element array.
    static func agree<T: Decodable & Equatable>(_ type: T.Type, _ value: SessionValue) -> Bool {
        let decoder = SessionValueDecoder()
        let direct = Result { try decoder.decode(T.self, from: value) }
        let general = Result { try decoder.decode([T].self, from: .array([value]))[0] }
        switch (direct, general) {
        case (.success(let a), .success(let b)): return a == b
        case (.failure(let a as SessionError), .failure(let b as SessionError)): return a.code == b.code
        default: return false
        }
    }

    @Test func decodingAgreesWithTheGeneralPath() {
        var generator = SeededGenerator.fromEnvironment()
        print("scalar decoding: seed \(generator.seed)")
        for _ in 0..<2_000 {
            let value = Self.randomValue(using: &generator)
            #expect(Self.agree(Int.self, value), "Int from \(value)")
            #expect(Self.agree(Int64.self, value), "Int64 from \(value)")
            #expect(Self.agree(Int32.self, value), "Int32 from \(value)")
            #expect(Self.agree(Double.self, value), "Double from \(value)")
            #expect(Self.agree(Bool.self, value), "Bool from \(value)")
            #expect(Self.agree(String.self, value), "String from \(value)")
        }
        #expect(SessionValueDecoder.directly(Int.self, from: .int(7)) == 7)
        #expect(SessionValueDecoder.directly(String.self, from: .string("a")) == "a")
        #expect(SessionValueDecoder.directly(Double.self, from: .int(7)) == nil)
    }

    @Test func encodingAgreesWithTheGeneralPath() throws {
        var generator = SeededGenerator.fromEnvironment()
        print("scalar encoding: seed \(generator.seed)")
        let encoder = SessionValueEncoder()
        func check<T: Encodable>(_ value: T) throws {
            let direct = try encoder.encode(value)
            let general = try encoder.encode([value])
            #expect(SessionValueEncoder.directly(value) != nil, "\(T.self) takes the shortcut")
            #expect(general == .array([direct]), "\(value)")
        }
        for _ in 0..<2_000 {
            let bits = generator.next()
            try check(Int(truncatingIfNeeded: bits))
            try check(Int64(bitPattern: bits))
            try check(Double(bitPattern: bits & 0x7FEF_FFFF_FFFF_FFFF))
            try check(bits % 2 == 0)
            try check(String(repeating: "ü", count: Int(bits % 40)))
        }
        #expect(try encoder.encode(SessionValue.array([1, "a"])) == .array([1, "a"]))
        #expect(SessionValueEncoder.directly(Int8(3)) == nil)
    }
}
