public import SessionPipeline

/// Session values as JSON text (tag `0x20`): human-readable and readable by any JSON parser.
///
/// The writer and reader work directly on bytes in one pass; Foundation's coders are nowhere on
/// the path. The representation, documented in `docs/FORMAT.md`:
///
/// | value | JSON |
/// |---|---|
/// | null, bool, string | as is (strings escaped per RFC 8259, non-ASCII written as UTF-8) |
/// | int within ±(2^53−1) | an integer literal: `42` |
/// | int beyond ±(2^53−1) | `{"$int": "9007199254740993"}`, exact in any language |
/// | double | the shortest literal that reads back exactly, always with `.` or `e`: `1.0`, `1e-07` |
/// | bytes | `{"$bytes": "<base64, padded>"}` |
/// | date | `{"$date": <Unix seconds, up to six decimals>}`: `{"$date": 1718000000.25}` |
/// | array, dictionary | as is; dictionary keys sorted by their UTF-8 bytes |
///
/// A dictionary key that starts with `$` is written with one more `$` (`$bytes` → `$$bytes`), so
/// user data can never be mistaken for a tagged value. Output is canonical: equal values give equal
/// bytes.
///
/// Non-finite doubles have no JSON form and are refused at write time with
/// ``SessionError/Code/invalidValue``. The reader refuses invalid UTF-8, unpaired surrogates,
/// duplicate keys, integers outside Int64, trailing garbage, and nesting deeper than
/// ``maximumDepth``, each with ``SessionError/Code/malformed``. It accepts whitespace, integer
/// literals of any size that fit Int64, and keys with a single leading `$`, so JSON written by
/// other programs reads too.
///
/// ```swift
/// let json = JSONSerializer()
/// let bytes = try json.serialize(["user": "alice", "visits": 3])
/// // 0x20 {"user":"alice","visits":3}
/// ```
public struct JSONSerializer: SessionSerializer {
    /// The tag byte of JSON payloads, `0x20`.
    public static let tag: UInt8 = 0x20
    /// The default limit on nesting of arrays and dictionaries.
    public static let defaultMaximumDepth = 128

    /// `0x20`.
    public var tag: UInt8 { Self.tag }
    /// `json`.
    public var name: String { "json" }
    /// The deepest nesting of arrays and dictionaries written or read; deeper values are refused.
    public let maximumDepth: Int

    /// Creates the serializer.
    ///
    /// - Parameter maximumDepth: The deepest nesting accepted, 1 to 1,000. Default 128.
    public init(maximumDepth: Int = JSONSerializer.defaultMaximumDepth) {
        precondition((1...1000).contains(maximumDepth), "maximumDepth must be between 1 and 1000")
        self.maximumDepth = maximumDepth
    }

    /// Writes `value` as tag `0x20` followed by JSON text.
    ///
    /// - Throws: ``SessionError/Code/invalidValue`` for a non-finite double or nesting deeper than
    ///   ``maximumDepth``.
    public func serialize(_ value: SessionValue) throws -> [UInt8] {
        var writer = JSONWriter(maximumDepth: maximumDepth)
        writer.output.append(Self.tag)
        try writer.write(value, depth: 0)
        return writer.output.finish()
    }

    /// Writes `value` as JSON text without the tag byte.
    public func text(_ value: SessionValue) throws -> String {
        var writer = JSONWriter(maximumDepth: maximumDepth)
        try writer.write(value, depth: 0)
        return String(decoding: writer.output.finish(), as: UTF8.self)
    }

    /// Reads a payload: tag `0x20` followed by JSON text.
    ///
    /// - Throws: ``SessionError/Code/unknownFormat`` when the tag is not `0x20`,
    ///   ``SessionError/Code/malformed`` when the text is not valid.
    public func deserialize(_ bytes: [UInt8]) throws -> SessionValue {
        guard bytes.first == Self.tag else {
            throw SessionError(.unknownFormat, "payload does not start with the JSON tag 0x20", layer: "JSON")
        }
        return try bytes.withUnsafeBytes { raw in
            try parse(UnsafeRawBufferPointer(rebasing: raw.dropFirst()))
        }
    }

    /// Reads JSON text (no tag byte).
    public func value(fromText text: String) throws -> SessionValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    private func parse(_ input: UnsafeRawBufferPointer) throws -> SessionValue {
        try StringCache.withTable { keys in try parse(input, keys: keys) }
    }

    private func parse(_ input: UnsafeRawBufferPointer, keys: StringCache) throws -> SessionValue {
        var parser = JSONParser(input: input, maximumDepth: maximumDepth, keys: keys)
        do {
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.position == input.count else {
                throw JSONParser.Failure(position: parser.position, reason: "unexpected text after the value")
            }
            return value
        } catch let failure as JSONParser.Failure {
            throw SessionError(.malformed, "at byte \(failure.position + 1): \(failure.reason)", layer: "JSON")
        }
    }
}

extension SessionSerializer where Self == JSONSerializer {
    /// JSON (tag `0x20`).
    public static var json: JSONSerializer { JSONSerializer() }
}

/// The index of the first byte at or after `start` that a JSON string cannot hold as it is — `"`,
/// `\` or a control character — or the input's count when there is none: eight bytes per step
/// while eight remain. The writer uses it to find what to escape, the reader to find where a
/// string ends or its first escape.
private func firstSpecialByte(in input: UnsafeRawBufferPointer, from start: Int) -> Int {
    var index = start
    let count = input.count
    guard let base = input.baseAddress else { return count }
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while index + 8 <= count {
        let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        // A byte below 0x20, or equal to 0x22 or 0x5C, anywhere in the word (exact as a test of
        // the whole word; the loop below finds which byte).
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let below = (word &- ones &* 0x20) & ~word
        let isQuote = (quote &- ones) & ~quote
        let isBackslash = (backslash &- ones) & ~backslash
        if (below | isQuote | isBackslash) & highs != 0 { break }
        index += 8
    }
    while index < count {
        let byte = input[index]
        if byte == 0x22 || byte == 0x5C || byte < 0x20 { break }
        index += 1
    }
    return index
}

/// 10^0 … 10^22: the powers of ten a double holds exactly.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

/// Values being collected while their container is read, innermost container's last: pushed one
/// at a time, and moved out (no retain and release of each) into an array of the exact size when
/// the container closes.
private struct PendingStack<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>?
    private var capacity = 0
    private(set) var count = 0

    init() {}

    deinit {
        base?.deinitialize(count: count)
        base?.deallocate()
    }

    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base! + count).initialize(to: element)
        count += 1
    }

    @inline(never)
    private mutating func grow() {
        let newCapacity = max(32, capacity * 2)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let base {
            newBase.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
    }

    /// The elements from `start` on, moved into an array; the stack keeps those before.
    mutating func pop(from start: Int) -> [Element] {
        let moved = count - start
        guard moved > 0, let base else { return [] }
        count = start
        // Reserved and appended one by one: each element is moved, not copied, and this array
        // type's allocation is specialized here (`Array(unsafeUninitializedCapacity:)` goes through
        // the standard library's unspecialized path, which looks up the type's metadata each time).
        var array: [Element] = []
        array.reserveCapacity(moved)
        for index in start..<(start + moved) {
            array.append((base + index).move())
        }
        return array
    }
}

/// The largest integer JavaScript's numbers hold exactly, 2^53 − 1.
private let largestSafeInteger: Int64 = (1 << 53) - 1

/// Writes JSON into a ``ByteWriter``. Values, strings and dictionary entries are read in place
/// through pointers, as the binary writer reads them: loading an element into a parameter would
/// retain it and release it again.
private struct JSONWriter: ~Copyable {
    var output = ByteWriter(capacity: 1024)
    let maximumDepth: Int

    init(maximumDepth: Int) {
        self.maximumDepth = maximumDepth
    }

    mutating func write(_ value: SessionValue, depth: Int) throws {
        try withUnsafePointer(to: value) { try write(at: $0, depth: depth) }
    }

    mutating func write(at value: UnsafePointer<SessionValue>, depth: Int) throws {
        switch value.pointee {
        case .null:
            append("null")
        case .bool(let bool):
            append(bool ? "true" : "false")
        case .int(let int):
            if int > largestSafeInteger || int < -largestSafeInteger {
                append("{\"$int\":\"")
                appendInteger(int)
                append("\"}")
            } else {
                appendInteger(int)
            }
        case .double(let double):
            guard double.isFinite else {
                throw SessionError(.invalidValue, "JSON cannot hold the non-finite number \(double)", layer: "JSON")
            }
            // The shortest text that reads back exactly (a string of up to 15 bytes, such as
            // `91.57`, is held inline: no allocation).
            var text = double.description
            text.withUTF8 { output.append(UnsafeRawBufferPointer($0)) }
        case .string(let string):
            withUnsafePointer(to: string) { appendString(at: $0, doublingDollar: false) }
        case .bytes(let bytes):
            append("{\"$bytes\":\"")
            var encoded: [UInt8] = []
            Base64.encode(bytes, into: &encoded, url: false, padded: true)
            output.append(encoded)
            append("\"}")
        case .date(let date):
            append("{\"$date\":")
            appendDate(date)
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            try checkDepth(depth)
            output.append(UInt8(ascii: "["))
            try elements.withUnsafeBufferPointer { elements in
                for index in elements.indices {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    try write(at: elements.baseAddress! + index, depth: depth + 1)
                }
            }
            output.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            try checkDepth(depth)
            output.append(UInt8(ascii: "{"))
            try entries.storage.withUnsafeBufferPointer { entries in
                for index in entries.indices {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    let entry = entries.baseAddress! + index
                    // A key starting with `$` gets one more, so it is never read as a tagged value.
                    appendString(at: entry.pointer(to: \.key)!, doublingDollar: true)
                    output.append(UInt8(ascii: ":"))
                    try write(at: entry.pointer(to: \.value)!, depth: depth + 1)
                }
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    // Inlined, as `compareBytes` is: called as methods, both took the parser by a copy made for
    // the call, twice per key (850 bytes while the key cache was held inline; calling them
    // still costs 6% of a decode).
    @inline(__always)
    private func checkDepth(_ depth: Int) throws {
        guard depth < maximumDepth else {
            throw SessionError(.invalidValue, "value nests deeper than \(maximumDepth) levels", layer: "JSON")
        }
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { output.append(UnsafeRawBufferPointer($0)) }
    }

    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    /// Writes `value` in decimal, zero-padded to `minimumWidth`, straight into the output.
    private mutating func appendDigits(_ value: UInt64, minimumWidth: Int = 1) {
        var digits = 1
        var threshold: UInt64 = 10
        while value >= threshold {
            digits += 1
            if digits == 20 { break }
            threshold &*= 10
        }
        output.append(count: max(digits, minimumWidth)) { room in
            var rest = value
            for index in room.indices.reversed() {
                room[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
        }
    }

    /// Seconds with up to six decimals, trailing zeros dropped, computed from integers so that it
    /// is exact.
    private mutating func appendDate(_ date: SessionDate) {
        let micros = date.microsecondsSince1970
        if micros < 0 { output.append(UInt8(ascii: "-")) }
        let magnitude = micros.magnitude
        appendDigits(magnitude / 1_000_000)
        var fraction = magnitude % 1_000_000
        guard fraction > 0 else { return }
        var width = 6
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        output.append(UInt8(ascii: "."))
        appendDigits(fraction, minimumWidth: width)
    }

    /// Writes the string at `string`, read in place; `doublingDollar` writes a leading `$` twice.
    private mutating func appendString(at string: UnsafePointer<String>, doublingDollar: Bool) {
        withUTF8InPlace(string) { appendString(utf8: $0, doublingDollar: doublingDollar) }
    }

    private mutating func appendString(utf8: UnsafeBufferPointer<UInt8>, doublingDollar: Bool) {
        let dollar = doublingDollar && utf8.first == UInt8(ascii: "$") ? 1 : 0
        guard let source = utf8.baseAddress else {
            append("\"\"")
            return
        }
        let count = utf8.count
        let raw = UnsafeRawBufferPointer(utf8)
        var special = firstSpecialByte(in: raw, from: 0)
        // Most strings need no escape: one scan, then the quotes and the bytes in one append.
        if special == count {
            output.append(count: count + 2 + dollar) { room in
                room[0] = UInt8(ascii: "\"")
                if dollar == 1 { room[1] = UInt8(ascii: "$") }
                copyBytes(to: UnsafeMutableRawPointer(room.baseAddress! + 1 + dollar), from: source, count: count)
                room[count + 1 + dollar] = UInt8(ascii: "\"")
            }
            return
        }
        output.append(UInt8(ascii: "\""))
        if dollar == 1 { output.append(UInt8(ascii: "$")) }
        var runStart = 0
        while true {
            output.append(UnsafeRawBufferPointer(rebasing: raw[runStart..<special]))
            guard special < count else { break }
            appendEscape(raw[special])
            runStart = special + 1
            special = firstSpecialByte(in: raw, from: runStart)
        }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x22: output.append(UInt8(ascii: "\""))
        case 0x5C: output.append(UInt8(ascii: "\\"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            output.append(UInt8(ascii: "u"))
            output.append(UInt8(ascii: "0"))
            output.append(UInt8(ascii: "0"))
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
    }
}

struct JSONParser: ~Copyable {
    struct Failure: Error {
        let position: Int
        let reason: String
    }

    let input: UnsafeRawBufferPointer
    let maximumDepth: Int
    var position = 0
    /// The entries and elements of the objects and arrays being read, innermost last. JSON does not
    /// say how many a container holds, so each collects here and is moved out once, at its exact
    /// size, when it closes — instead of growing an array of its own by doubling (an allocation and
    /// a copy per doubling).
    private var pendingEntries = PendingStack<SessionDictionary.Entry>()
    private var pendingElements = PendingStack<SessionValue>()
    /// The keys already made from this input (`sku`, `qty`, … repeated in every element of a list).
    private let keys: StringCache

    init(input: UnsafeRawBufferPointer, maximumDepth: Int, keys: StringCache) {
        self.input = input
        self.maximumDepth = maximumDepth
        self.keys = keys
    }

    private func fail(_ reason: String, at position: Int? = nil) -> Failure {
        Failure(position: position ?? self.position, reason: reason)
    }

    private var current: UInt8? {
        position < input.count ? input[position] : nil
    }

    mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= input.count else { throw fail("truncated literal") }
        let matches = literal.withUTF8Buffer { expected in
            expected.elementsEqual(UnsafeRawBufferPointer(rebasing: input[position..<(position + count)]))
        }
        guard matches else { throw fail("invalid literal") }
        position += count
    }

    mutating func parseValue(depth: Int) throws -> SessionValue {
        guard let byte = current else { throw fail("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumberValue()
        default:
            throw fail("unexpected character")
        }
    }

    private func checkDepth(_ depth: Int) throws {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels") }
    }

    private mutating func parseArray(depth: Int) throws -> SessionValue {
        try checkDepth(depth)
        position += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array([])
        }
        let base = pendingElements.count
        while true {
            skipWhitespace()
            pendingElements.push(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(pendingElements.pop(from: base))
            case nil: throw fail("unterminated array")
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    private mutating func parseObject(depth: Int) throws -> SessionValue {
        try checkDepth(depth)
        let start = position
        position += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .dictionary([:])
        }
        let base = pendingEntries.count
        // Whether every key so far was written without escapes or a doubled `$` and in strictly
        // increasing byte order, as this library writes them: then the entries are the dictionary
        // as they stand, with no sorting and no string comparisons.
        var inOrder = true
        var previousKey = 0..<0
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            var (key, raw) = try parseKey()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            skipWhitespace()
            let dollar = raw.map { input[$0.lowerBound] == UInt8(ascii: "$") } ?? (key.utf8.first == UInt8(ascii: "$"))
            if dollar, pendingEntries.count == base, let tagged = try parseTagged(key: key, objectStart: start) {
                return tagged
            }
            if dollar, key.utf8.starts(with: "$$".utf8) {
                key.removeFirst()
                inOrder = false
            }
            if inOrder {
                if let raw, pendingEntries.count == base || compareBytes(previousKey, raw) < 0 {
                    previousKey = raw
                } else {
                    inOrder = false
                }
            }
            pendingEntries.push(SessionDictionary.Entry(key: key, value: try parseValue(depth: depth + 1)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                let entries = pendingEntries.pop(from: base)
                if inOrder { return .dictionary(SessionDictionary(sortedUniqueEntries: entries)) }
                var builder = SessionDictionary.Builder(capacity: entries.count)
                for entry in entries { builder.append(entry.key, entry.value) }
                guard let dictionary = builder.dictionary() else { throw fail("duplicate key", at: start) }
                return .dictionary(dictionary)
            case nil: throw fail("unterminated object")
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    /// Reads a key: one without escapes from the key cache, with the range of its bytes in the
    /// input; one with escapes as any string, with no range.
    private mutating func parseKey() throws -> (key: String, raw: Range<Int>?) {
        let start = position + 1
        let end = firstSpecialByte(in: input, from: start)
        guard end < input.count, input[end] == UInt8(ascii: "\"") else {
            return (try parseString(), nil)
        }
        position = end + 1
        guard let key = keys.string(at: start, count: end - start, in: input) else {
            throw fail("invalid UTF-8 in a string", at: start)
        }
        return (key, start..<end)
    }

    /// Orders two ranges of the input by their bytes, as ``UTF8Text/compare(_:_:)`` orders strings.
    @inline(__always)
    private func compareBytes(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        guard let base = input.baseAddress else { return a.count - b.count }
        return UTF8Text.compare(base + a.lowerBound, a.count, base + b.lowerBound, b.count)
    }

    /// Reads `{"$bytes": …}`, `{"$date": …}` or `{"$int": …}` when the object holds exactly that one
    /// entry; otherwise leaves the position where it was and returns `nil`.
    private mutating func parseTagged(key: String, objectStart: Int) throws -> SessionValue? {
        guard key == "$bytes" || key == "$date" || key == "$int" else { return nil }
        let valueStart = position
        let value: SessionValue
        switch key {
        case "$date":
            guard current == UInt8(ascii: "-") || current.map({ (0x30...0x39).contains($0) }) == true else {
                return nil
            }
            let number = try parseNumber()
            guard closesObject() else {
                position = valueStart
                return nil
            }
            value = .date(try number.date())
        default:
            guard current == UInt8(ascii: "\"") else { return nil }
            let text = try parseString()
            guard closesObject() else {
                position = valueStart
                return nil
            }
            if key == "$bytes" {
                guard let bytes = Base64.decode(text.utf8, url: false) else {
                    throw fail("invalid base64 in $bytes", at: valueStart)
                }
                value = .bytes(bytes)
            } else {
                guard let int = parseDecimalInteger(text.utf8) else {
                    throw fail("invalid integer in $int", at: valueStart)
                }
                value = .int(int)
            }
        }
        return value
    }

    /// Consumes optional whitespace and `}` if the object ends here.
    private mutating func closesObject() -> Bool {
        let saved = position
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return true
        }
        position = saved
        return false
    }

    private func parseDecimalInteger(_ text: String.UTF8View) -> Int64? {
        var iterator = text.makeIterator()
        guard var byte = iterator.next() else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let next = iterator.next() else { return nil }
            byte = next
        }
        var magnitude: UInt64 = 0
        var digits = 0
        while true {
            guard (0x30...0x39).contains(byte) else { return nil }
            if digits == 1 && magnitude == 0 { return nil }  // no leading zeros
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            guard !o1, !o2 else { return nil }
            magnitude = sum
            digits += 1
            guard let next = iterator.next() else { break }
            byte = next
        }
        return negative ? Int64(exactly: -Int128(magnitude)) : Int64(exactly: magnitude)
    }

    /// A number literal's parts, so it can be read as an integer, a double, or an exact decimal
    /// date.
    struct Number {
        let text: UnsafeRawBufferPointer
        let start: Int
        let negative: Bool
        let integerDigits: Range<Int>
        /// The integer digits' value, or `nil` when it is beyond `UInt64`.
        let integerMagnitude: UInt64?
        let fractionDigits: Range<Int>?
        let hasExponent: Bool
        let end: Int

        /// The literal, one without fraction or exponent, as an `Int64`.
        func integer() throws -> Int64 {
            let outOfRange = Failure(position: start, reason: "integer outside the range of Int64")
            guard let magnitude = integerMagnitude else { throw outOfRange }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { throw outOfRange }
                return magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else { throw outOfRange }
            return Int64(magnitude)
        }

        func double() throws -> Double {
            if let exact = exactDouble() { return exact }
            let literal = String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<end]), as: UTF8.self)
            guard let double = Double(literal), double.isFinite else {
                throw Failure(position: start, reason: "number outside the range of Double")
            }
            return double
        }

        /// The literal's value when it can be computed with one correctly rounded operation: at most
        /// 15 significant digits (so the digits are exactly a double) scaled by a power of ten
        /// up to 10^22 (exactly a double too). Dividing or multiplying two exact doubles rounds
        /// once, so the result is the double nearest the literal, as a full conversion gives.
        /// `nil` for every other literal, which goes through the full conversion.
        func exactDouble() -> Double? {
            var significand: UInt64 = 0
            var digits = 0
            for index in integerDigits {
                significand = significand &* 10 &+ UInt64(text[index] &- 0x30)
                if significand != 0 { digits += 1 }
            }
            var scale = 0
            if let fractionDigits {
                for index in fractionDigits {
                    significand = significand &* 10 &+ UInt64(text[index] &- 0x30)
                    if significand != 0 { digits += 1 }
                    scale -= 1
                }
            }
            guard digits <= 15 else { return nil }
            if hasExponent {
                var index = (fractionDigits?.upperBound ?? integerDigits.upperBound) + 1
                var exponentNegative = false
                if text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                    exponentNegative = text[index] == UInt8(ascii: "-")
                    index += 1
                }
                var exponent = 0
                while index < end {
                    exponent = exponent * 10 + Int(text[index] &- 0x30)
                    guard exponent <= 400 else { return nil }
                    index += 1
                }
                scale += exponentNegative ? -exponent : exponent
            }
            guard scale >= -22, scale <= 22 else { return nil }
            let power = exactPowersOfTen[Int(scale.magnitude)]
            let magnitude = scale < 0 ? Double(significand) / power : Double(significand) * power
            return negative ? -magnitude : magnitude
        }

        /// Seconds with up to six decimals read exactly as microseconds; more decimals round to the
        /// nearest microsecond; an exponent goes through `Double`.
        func date() throws -> SessionDate {
            let rangeFailure = Failure(position: start, reason: "date outside the representable range")
            if hasExponent {
                let micros = (try double() * 1_000_000).rounded()
                guard let exact = Int64(exactly: micros) else { throw rangeFailure }
                return SessionDate(microsecondsSince1970: exact)
            }
            var magnitude: UInt64 = 0
            var digitsSeen = 0
            func push(_ digit: UInt8) -> Bool {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - 0x30))
                magnitude = sum
                return !o1 && !o2
            }
            for index in integerDigits {
                guard push(text[index]) else { throw rangeFailure }
            }
            var roundUp = false
            if let fractionDigits {
                for index in fractionDigits {
                    if digitsSeen < 6 {
                        guard push(text[index]) else { throw rangeFailure }
                    } else if digitsSeen == 6 {
                        roundUp = text[index] >= UInt8(ascii: "5")
                    }
                    digitsSeen += 1
                }
            }
            while digitsSeen < 6 {
                guard push(UInt8(ascii: "0")) else { throw rangeFailure }
                digitsSeen += 1
            }
            if roundUp {
                let (sum, overflow) = magnitude.addingReportingOverflow(1)
                guard !overflow else { throw rangeFailure }
                magnitude = sum
            }
            guard let micros = Int64(exactly: negative ? -Int128(magnitude) : Int128(magnitude)) else {
                throw rangeFailure
            }
            return SessionDate(microsecondsSince1970: micros)
        }
    }

    /// Reads a number as a value: an integer from the value its digits had when scanned, a
    /// literal with a fraction or an exponent as a double.
    private mutating func parseNumberValue() throws -> SessionValue {
        let number = try parseNumber()
        guard number.fractionDigits == nil, !number.hasExponent else { return .double(try number.double()) }
        return .int(try number.integer())
    }

    /// Scans a number per RFC 8259: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func parseNumber() throws -> Number {
        let start = position
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        let integerStart = position
        guard let first = current, (0x30...0x39).contains(first) else { throw fail("expected a digit") }
        position += 1
        // The integer part's value is taken as its digits go by (most numbers are integers).
        var magnitude: UInt64? = UInt64(first &- 0x30)
        if first != UInt8(ascii: "0") {
            while let byte = current, (0x30...0x39).contains(byte) {
                if let value = magnitude {
                    let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(byte &- 0x30))
                    magnitude = o1 || o2 ? nil : sum
                }
                position += 1
            }
        }
        let integerDigits = integerStart..<position
        var fractionDigits: Range<Int>?
        if current == UInt8(ascii: ".") {
            position += 1
            let fractionStart = position
            while let byte = current, (0x30...0x39).contains(byte) { position += 1 }
            guard position > fractionStart else { throw fail("expected a digit after '.'") }
            fractionDigits = fractionStart..<position
        }
        var hasExponent = false
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            hasExponent = true
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            let exponentStart = position
            while let byte = current, (0x30...0x39).contains(byte) { position += 1 }
            guard position > exponentStart else { throw fail("expected a digit in the exponent") }
        }
        return Number(
            text: input,
            start: start,
            negative: negative,
            integerDigits: integerDigits,
            integerMagnitude: magnitude,
            fractionDigits: fractionDigits,
            hasExponent: hasExponent,
            end: position
        )
    }

    /// Reads a string literal, validating UTF-8 and escapes.
    private mutating func parseString() throws -> String {
        let open = position
        position += 1
        let start = position
        // Fast path: no escapes.
        position = firstSpecialByte(in: input, from: start)
        guard position < input.count else { throw fail("unterminated string", at: open) }
        if input[position] == UInt8(ascii: "\"") {
            let raw = UnsafeRawBufferPointer(rebasing: input[start..<position])
            position += 1
            guard let string = UTF8Text.string(raw) else {
                throw fail("invalid UTF-8 in a string", at: start)
            }
            return string
        }
        if input[position] < 0x20 { throw fail("unescaped control character in a string") }
        var bytes = [UInt8](UnsafeRawBufferPointer(rebasing: input[start..<position]))
        while position < input.count {
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = bytes.withUnsafeBytes(UTF8Text.string) else {
                    throw fail("invalid UTF-8 in a string", at: start)
                }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                guard let escape = current else { break }
                position += 1
                switch escape {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    bytes.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw fail("invalid escape", at: position - 2)
                }
            default:
                if byte < 0x20 { throw fail("unescaped control character in a string") }
                bytes.append(byte)
                position += 1
            }
        }
        throw fail("unterminated string", at: open)
    }

    /// Reads the four hex digits after `\u` (and a second escape for a surrogate pair).
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let escapeStart = position - 2
        let high = try parseHex4()
        if (0xD800...0xDBFF).contains(high) {
            guard position + 1 < input.count, input[position] == UInt8(ascii: "\\"),
                input[position + 1] == UInt8(ascii: "u")
            else {
                throw fail("unpaired surrogate escape", at: escapeStart)
            }
            position += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate escape", at: escapeStart) }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(high) else { throw fail("unpaired surrogate escape", at: escapeStart) }
        return scalar
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= input.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
