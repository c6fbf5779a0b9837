public import SessionPipeline

/// Session values as compact binary (tag `0x21`): MessagePack, readable by any MessagePack library
/// in any language.
///
/// | value | MessagePack |
/// |---|---|
/// | null, bool | `nil`, `false`, `true` |
/// | int | the smallest encoding: positive/negative fixint, `uint 8/16/32/64` for non-negative values, `int 8/16/32/64` for negative ones |
/// | double | `float 32` when the value converts to it and back bit for bit, otherwise `float 64` |
/// | string | `fixstr`, `str 8/16/32` (UTF-8) |
/// | bytes | `bin 8/16/32` |
/// | date | the timestamp extension (type −1): `timestamp 32` for whole seconds in 0…2^32−1, `timestamp 64` for 0…2^34−1, otherwise `timestamp 96`; nanoseconds are microseconds × 1000 |
/// | array | `fixarray`, `array 16/32` |
/// | dictionary | `fixmap`, `map 16/32`, string keys, sorted by their UTF-8 bytes |
///
/// Output is canonical: equal values give equal bytes. The writer makes one pass into one buffer.
///
/// The reader refuses, with ``SessionError/Code/malformed``: truncated input, lengths past the end
/// of the input (no allocation is sized by a length the input cannot back), invalid UTF-8, map keys
/// that are not strings, duplicate keys, extension types other than the timestamp, the reserved
/// byte `0xc1`, unsigned integers above Int64.max, trailing bytes, and nesting deeper than
/// ``maximumDepth``. Timestamps with sub-microsecond nanoseconds (from other writers) round to the
/// nearest microsecond.
///
/// ```swift
/// let bytes = try MessagePackSerializer().serialize(["user": "alice"])
/// // 21 81 a4 75 73 65 72 a5 61 6c 69 63 65
/// ```
public struct MessagePackSerializer: SessionSerializer {
    /// The tag byte of binary payloads, `0x21`.
    public static let tag: UInt8 = 0x21

    /// `0x21`.
    public var tag: UInt8 { Self.tag }
    /// `binary`.
    public var name: String { "binary" }
    /// The deepest nesting of arrays and dictionaries written or read.
    public let maximumDepth: Int

    /// Creates the serializer.
    ///
    /// - Parameter maximumDepth: The deepest nesting accepted, 1 to 1,000. Default 128.
    public init(maximumDepth: Int = JSONSerializer.defaultMaximumDepth) {
        precondition((1...1000).contains(maximumDepth), "maximumDepth must be between 1 and 1000")
        self.maximumDepth = maximumDepth
    }

    /// Writes `value` as tag `0x21` followed by MessagePack.
    ///
    /// - Throws: ``SessionError/Code/invalidValue`` for nesting deeper than ``maximumDepth``, or a
    ///   string, byte string, array or dictionary with 2^32 or more elements.
    public func serialize(_ value: SessionValue) throws -> [UInt8] {
        var writer = MessagePackWriter(maximumDepth: maximumDepth)
        writer.output.append(Self.tag)
        try writer.write(value, depth: 0)
        return writer.output.finish()
    }

    /// Reads a payload: tag `0x21` followed by one MessagePack value.
    ///
    /// - Throws: ``SessionError/Code/unknownFormat`` when the tag is not `0x21`,
    ///   ``SessionError/Code/malformed`` when the bytes are not valid.
    public func deserialize(_ bytes: [UInt8]) throws -> SessionValue {
        guard bytes.first == Self.tag else {
            throw SessionError(.unknownFormat, "payload does not start with the binary tag 0x21", layer: "Binary")
        }
        return try bytes.withUnsafeBytes { raw in
            try StringCache.withTable { strings in
                try read(raw, from: 1, strings: strings) { reader in
                    let value = try reader.readValue(depth: 0)
                    try reader.finish()
                    return value
                }
            }
        }
    }

    /// Runs `body` with a reader over `raw` from `position` (making strings through `strings`); a
    /// fault it finds becomes ``SessionError/Code/malformed`` naming the byte.
    func read<T>(
        _ raw: UnsafeRawBufferPointer,
        from position: Int,
        strings: StringCache = StringCache(),
        _ body: (inout MessagePackReader) throws -> T
    ) throws -> T {
        var reader = MessagePackReader(input: raw, position: position, maximumDepth: maximumDepth, strings: strings)
        do {
            return try body(&reader)
        } catch let failure as MessagePackReader.Failure {
            throw SessionError(.malformed, "at byte \(failure.position): \(failure.reason)", layer: "Binary")
        }
    }
}

extension SessionSerializer where Self == MessagePackSerializer {
    /// Compact binary: MessagePack (tag `0x21`).
    public static var binary: MessagePackSerializer { MessagePackSerializer() }
}

extension MessagePackSerializer: SplicingSerializer {
    /// The entries of the MessagePack map `value` holds, values left encoded; `nil` when it holds
    /// something else. Keys are checked in full (UTF-8, no duplicates); each value's framing is
    /// checked (lengths, nesting, key types, extension types), its contents when decoded.
    public func entries(of value: EncodedValue) throws -> [EncodedEntry]? {
        try checkTag(value)
        let base = value.bytes.startIndex
        return try value.bytes.withUnsafeBytes { raw -> [EncodedEntry]? in
            try read(raw, from: 0) { reader -> [EncodedEntry]? in
                let map = try reader.readMapSkippingValues { key, range in
                    EncodedEntry(
                        key: key,
                        value: EncodedValue(
                            tag: Self.tag, bytes: value.bytes[(base + range.lowerBound)..<(base + range.upperBound)])
                    )
                }
                guard let (found, isSorted) = map else { return nil }
                var entries = found
                try reader.finish()
                if !isSorted {
                    entries.sort { UTF8Text.compare($0.key, $1.key) < 0 }
                    for index in entries.indices.dropFirst()
                    where UTF8Text.compare(entries[index - 1].key, entries[index].key) == 0 {
                        throw MessagePackReader.Failure(position: 0, reason: "duplicate key")
                    }
                }
                return entries
            }
        }
    }

    /// Decodes one value read by ``entries(of:)``.
    public func decode(_ value: EncodedValue) throws -> SessionValue {
        try checkTag(value)
        return try value.bytes.withUnsafeBytes { raw in
            func decoded(_ strings: StringCache) throws -> SessionValue {
                try read(raw, from: 0, strings: strings) { reader in
                    let decoded = try reader.readValue(depth: 0)
                    try reader.finish()
                    return decoded
                }
            }
            // Keys repeat only inside containers (maps, arrays): a scalar needs no string cache.
            switch raw.first ?? 0 {
            case 0x80...0x9F, 0xDC...0xDF: return try StringCache.withTable(decoded)
            default: return try decoded(StringCache())
            }
        }
    }

    /// Writes `value` as tag `0x21` followed by MessagePack; encoded parts are copied as they are.
    public func serialize(_ value: SplicedValue) throws -> [UInt8] {
        var writer = MessagePackWriter(maximumDepth: maximumDepth)
        writer.output.append(Self.tag)
        try writer.write(value, depth: 0)
        return writer.output.finish()
    }

    private func checkTag(_ value: EncodedValue) throws {
        guard value.tag == Self.tag else {
            throw SessionError(.unknownFormat, "the value is not in the binary format", layer: "Binary")
        }
    }
}

private struct MessagePackWriter: ~Copyable {
    var output = ByteWriter(capacity: 1024)
    let maximumDepth: Int

    init(maximumDepth: Int) {
        self.maximumDepth = maximumDepth
    }

    mutating func write(_ value: SessionValue, depth: Int) throws {
        try withUnsafePointer(to: value) { try write(at: $0, depth: depth) }
    }

    /// Writes the value at `value`. Values are passed by address through the recursion: an array
    /// element or dictionary entry loaded into a parameter is copied (retained, then released after
    /// the call), since the compiler cannot tell that the writer's stores through its own buffer
    /// leave the value's memory alone; reading each value in place saves 8% of an encode.
    mutating func write(at value: UnsafePointer<SessionValue>, depth: Int) throws {
        switch value.pointee {
        case .null:
            output.append(0xC0)
        case .bool(let bool):
            output.append(bool ? 0xC3 : 0xC2)
        case .int(let int):
            writeInteger(int)
        case .double(let double):
            let single = Float(double)
            if Double(single).bitPattern == double.bitPattern {
                output.append(0xCA)
                output.appendBigEndian(single.bitPattern)
            } else {
                output.append(0xCB)
                output.appendBigEndian(double.bitPattern)
            }
        case .string(let string):
            writeString(string)
        case .bytes(let bytes):
            try checkCount(bytes.count)
            writeHeader(count: bytes.count, fix: nil, fixLimit: 0, eight: 0xC4, sixteen: 0xC5, thirtyTwo: 0xC6)
            output.append(bytes)
        case .date(let date):
            writeTimestamp(date)
        case .array(let elements):
            try checkDepth(depth)
            try checkCount(elements.count)
            writeHeader(count: elements.count, fix: 0x90, fixLimit: 15, eight: nil, sixteen: 0xDC, thirtyTwo: 0xDD)
            try elements.withUnsafeBufferPointer { elements in
                for index in elements.indices {
                    try write(at: elements.baseAddress! + index, depth: depth + 1)
                }
            }
        case .dictionary(let entries):
            try checkDepth(depth)
            try checkCount(entries.count)
            writeHeader(count: entries.count, fix: 0x80, fixLimit: 15, eight: nil, sixteen: 0xDE, thirtyTwo: 0xDF)
            try entries.storage.withUnsafeBufferPointer { entries in
                for index in entries.indices {
                    let entry = entries.baseAddress! + index
                    writeString(at: entry.pointer(to: \.key)!)
                    try write(at: entry.pointer(to: \.value)!, depth: depth + 1)
                }
            }
        }
    }

    mutating func write(_ value: SplicedValue, depth: Int) throws {
        try withUnsafePointer(to: value) { try write(at: $0, depth: depth) }
    }

    /// Writes the spliced value at `value`, read in place like ``write(at:depth:)``: copying each
    /// entry out of its array would retain its key and its bytes and release them again.
    mutating func write(at value: UnsafePointer<SplicedValue>, depth: Int) throws {
        switch value.pointee {
        case .value(let value):
            try write(value, depth: depth)
        case .encoded(let encoded):
            guard encoded.tag == MessagePackSerializer.tag else {
                throw SessionError(.invalidValue, "an encoded part is in another format", layer: "Binary")
            }
            encoded.bytes.withUnsafeBytes { output.append($0) }
        case .dictionary(let entries):
            try checkDepth(depth)
            try checkCount(entries.count)
            // Keys compared in place: copying an entry out of the array to read its key would
            // retain and release its value as well.
            let sorted = entries.withUnsafeBufferPointer { entries in
                entries.indices.dropFirst().allSatisfy { index in
                    Self.keyOrder(entries.baseAddress! + (index - 1), entries.baseAddress! + index) < 0
                }
            }
            if sorted { return try writeEntries(entries, depth: depth) }
            let ordered = entries.sorted { UTF8Text.compare($0.key, $1.key) < 0 }
            for index in ordered.indices.dropFirst()
            where UTF8Text.compare(ordered[index - 1].key, ordered[index].key) == 0 {
                throw SessionError(.invalidValue, "duplicate key '\(ordered[index].key)'", layer: "Binary")
            }
            try writeEntries(ordered, depth: depth)
        }
    }

    /// The byte order of the keys of two entries, read in place.
    private static func keyOrder(
        _ a: UnsafePointer<(key: String, value: SplicedValue)>,
        _ b: UnsafePointer<(key: String, value: SplicedValue)>
    ) -> Int {
        var order = 0
        withUTF8InPlace(a.pointer(to: \.key)!) { a in
            withUTF8InPlace(b.pointer(to: \.key)!) { b in order = UTF8Text.compare(bytes: a, b) }
        }
        return order
    }

    /// Writes a map of spliced entries already in key order, each entry read in place.
    private mutating func writeEntries(_ entries: [(key: String, value: SplicedValue)], depth: Int) throws {
        writeHeader(count: entries.count, fix: 0x80, fixLimit: 15, eight: nil, sixteen: 0xDE, thirtyTwo: 0xDF)
        try entries.withUnsafeBufferPointer { entries in
            for index in entries.indices {
                let entry = entries.baseAddress! + index
                writeString(at: entry.pointer(to: \.key)!)
                try write(at: entry.pointer(to: \.value)!, depth: depth + 1)
            }
        }
    }

    private mutating func writeString(_ string: String) {
        withUnsafePointer(to: string) { writeString(at: $0) }
    }

    /// Writes the string at `string`, read in place (see ``write(at:depth:)``).
    private mutating func writeString(at string: UnsafePointer<String>) {
        withUTF8InPlace(string) { writeString(utf8: $0) }
    }

    private mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
        writeHeader(count: utf8.count, fix: 0xA0, fixLimit: 31, eight: 0xD9, sixteen: 0xDA, thirtyTwo: 0xDB)
        output.append(UnsafeRawBufferPointer(utf8))
    }

    private func checkDepth(_ depth: Int) throws {
        guard depth < maximumDepth else {
            throw SessionError(.invalidValue, "value nests deeper than \(maximumDepth) levels", layer: "Binary")
        }
    }

    private func checkCount(_ count: Int) throws {
        guard count <= Int(UInt32.max) else {
            throw SessionError(.invalidValue, "MessagePack holds at most 2^32-1 elements", layer: "Binary")
        }
    }

    private mutating func writeHeader(
        count: Int,
        fix: UInt8?,
        fixLimit: Int,
        eight: UInt8?,
        sixteen: UInt8,
        thirtyTwo: UInt8
    ) {
        if let fix, count <= fixLimit {
            output.append(fix | UInt8(count))
        } else if let eight, count <= 0xFF {
            output.append(eight)
            output.append(UInt8(count))
        } else if count <= 0xFFFF {
            output.append(sixteen)
            output.appendBigEndian(UInt16(count))
        } else {
            output.append(thirtyTwo)
            output.appendBigEndian(UInt32(count))
        }
    }

    private mutating func writeInteger(_ int: Int64) {
        if int >= 0 {
            switch int {
            case 0...0x7F: output.append(UInt8(int))
            case 0...0xFF:
                output.append(0xCC)
                output.append(UInt8(int))
            case 0...0xFFFF:
                output.append(0xCD)
                output.appendBigEndian(UInt16(int))
            case 0...0xFFFF_FFFF:
                output.append(0xCE)
                output.appendBigEndian(UInt32(int))
            default:
                output.append(0xCF)
                output.appendBigEndian(UInt64(int))
            }
        } else {
            switch int {
            case -32 ... -1: output.append(UInt8(bitPattern: Int8(int)))
            case -0x80 ... -1:
                output.append(0xD0)
                output.append(UInt8(bitPattern: Int8(int)))
            case -0x8000 ... -1:
                output.append(0xD1)
                output.appendBigEndian(Int16(int))
            case -0x8000_0000 ... -1:
                output.append(0xD2)
                output.appendBigEndian(Int32(int))
            default:
                output.append(0xD3)
                output.appendBigEndian(int)
            }
        }
    }

    private mutating func writeTimestamp(_ date: SessionDate) {
        let seconds = date.secondsSince1970
        let nanoseconds = UInt32(date.microsecondOfSecond * 1000)
        if nanoseconds == 0 && (0...0xFFFF_FFFF).contains(seconds) {
            output.append(0xD6)
            output.append(0xFF)
            output.appendBigEndian(UInt32(seconds))
        } else if (0..<(1 << 34)).contains(seconds) {
            output.append(0xD7)
            output.append(0xFF)
            output.appendBigEndian(UInt64(nanoseconds) << 34 | UInt64(seconds))
        } else {
            output.append(0xC7)
            output.append(12)
            output.append(0xFF)
            output.appendBigEndian(nanoseconds)
            output.appendBigEndian(seconds)
        }
    }
}

struct MessagePackReader {
    struct Failure: Error {
        let position: Int
        let reason: String
    }

    let input: UnsafeRawBufferPointer
    var position: Int
    let maximumDepth: Int
    let strings: StringCache

    init(input: UnsafeRawBufferPointer, position: Int, maximumDepth: Int, strings: StringCache = StringCache()) {
        self.input = input
        self.position = position
        self.maximumDepth = maximumDepth
        self.strings = strings
    }

    /// Checks that the value read was the whole input.
    mutating func finish() throws {
        guard position == input.count else { throw fail("trailing bytes after the value") }
    }

    private mutating func fail(_ reason: String, at position: Int? = nil) -> Failure {
        Failure(position: position ?? self.position, reason: reason)
    }

    @inline(__always)
    private mutating func byte() throws -> UInt8 {
        guard position < input.count else { throw fail("unexpected end of input") }
        defer { position += 1 }
        return input[position]
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard input.count - position >= size else { throw fail("unexpected end of input") }
        var value = T.zero
        for index in 0..<size {
            value = value << 8 | T(input[position + index])
        }
        position += size
        return value
    }

    /// Takes `count` bytes, after checking the input holds them.
    @inline(__always)
    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, input.count - position >= count else {
            throw fail("a length of \(count) runs past the end of the input")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: input[position..<(position + count)])
    }

    private mutating func string(count: Int) throws -> String {
        let start = position
        _ = try take(count)
        guard let string = UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[start..<(start + count)])) else {
            throw fail("invalid UTF-8 in a string", at: start)
        }
        return string
    }

    /// An element count, checked against the bytes left (each element takes at least `minimum`).
    @inline(__always)
    private mutating func checkCount(_ count: Int, minimum: Int) throws {
        guard count <= (input.count - position) / minimum else {
            throw fail("a count of \(count) elements cannot fit in the \(input.count - position) bytes left")
        }
    }

    mutating func readValue(depth: Int) throws -> SessionValue {
        let start = position
        let head = try byte()
        switch head {
        case 0x00...0x7F: return .int(Int64(head))
        case 0x80...0x8F: return try readMap(count: Int(head & 0x0F), depth: depth, start: start)
        case 0x90...0x9F: return try readArray(count: Int(head & 0x0F), depth: depth, start: start)
        case 0xA0...0xBF: return .string(try string(count: Int(head & 0x1F)))
        case 0xC0: return .null
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .bytes(Array(try take(Int(try byte()))))
        case 0xC5: return .bytes(Array(try take(Int(try bigEndian(UInt16.self)))))
        case 0xC6: return .bytes(Array(try take(Int(try bigEndian(UInt32.self)))))
        case 0xC7: return try readExtension(length: Int(try byte()), start: start)
        case 0xC8: return try readExtension(length: Int(try bigEndian(UInt16.self)), start: start)
        case 0xC9: return try readExtension(length: Int(try bigEndian(UInt32.self)), start: start)
        case 0xCA: return .double(Double(Float(bitPattern: try bigEndian(UInt32.self))))
        case 0xCB: return .double(Double(bitPattern: try bigEndian(UInt64.self)))
        case 0xCC: return .int(Int64(try byte()))
        case 0xCD: return .int(Int64(try bigEndian(UInt16.self)))
        case 0xCE: return .int(Int64(try bigEndian(UInt32.self)))
        case 0xCF:
            let value = try bigEndian(UInt64.self)
            guard let int = Int64(exactly: value) else { throw fail("unsigned integer above Int64.max", at: start) }
            return .int(int)
        case 0xD0: return .int(Int64(Int8(bitPattern: try byte())))
        case 0xD1: return .int(Int64(try bigEndian(Int16.self)))
        case 0xD2: return .int(Int64(try bigEndian(Int32.self)))
        case 0xD3: return .int(try bigEndian(Int64.self))
        case 0xD4: return try readExtension(length: 1, start: start)
        case 0xD5: return try readExtension(length: 2, start: start)
        case 0xD6: return try readExtension(length: 4, start: start)
        case 0xD7: return try readExtension(length: 8, start: start)
        case 0xD8: return try readExtension(length: 16, start: start)
        case 0xD9: return .string(try string(count: Int(try byte())))
        case 0xDA: return .string(try string(count: Int(try bigEndian(UInt16.self))))
        case 0xDB: return .string(try string(count: Int(try bigEndian(UInt32.self))))
        case 0xDC: return try readArray(count: Int(try bigEndian(UInt16.self)), depth: depth, start: start)
        case 0xDD: return try readArray(count: Int(try bigEndian(UInt32.self)), depth: depth, start: start)
        case 0xDE: return try readMap(count: Int(try bigEndian(UInt16.self)), depth: depth, start: start)
        case 0xDF: return try readMap(count: Int(try bigEndian(UInt32.self)), depth: depth, start: start)
        case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: head)))
        default: throw fail("the reserved byte 0xc1", at: start)
        }
    }

    private mutating func readArray(count: Int, depth: Int, start: Int) throws -> SessionValue {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels", at: start) }
        try checkCount(count, minimum: 1)
        var elements: [SessionValue] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try readValue(depth: depth + 1))
        }
        return .array(elements)
    }

    private mutating func readMap(count: Int, depth: Int, start: Int) throws -> SessionValue {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels", at: start) }
        try checkCount(count, minimum: 2)
        // The entries go straight into an array of the right size; keys written in order (as every
        // writer of this format in this library writes them) need no sorting afterwards. (Reserving
        // and appending is specialized here; `Array(unsafeUninitializedCapacity:)` allocates through
        // the standard library's generic path, which looks up the array's type each time: 6% of a
        // decode.)
        var sorted = true
        var previousKey = 0..<0
        var entries: [SessionDictionary.Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let keyOffset = try skipKey()
            let keyRange = keyOffset..<position
            guard let key = strings.string(at: keyOffset, count: keyRange.count, in: input) else {
                throw fail("invalid UTF-8 in a key", at: keyOffset)
            }
            if index > 0, sorted, compareBytes(previousKey, keyRange) >= 0 { sorted = false }
            previousKey = keyRange
            entries.append(SessionDictionary.Entry(key: key, value: try readValue(depth: depth + 1)))
        }
        if sorted { return .dictionary(SessionDictionary(sortedUniqueEntries: entries)) }
        var builder = SessionDictionary.Builder(capacity: count)
        for entry in entries { builder.append(entry.key, entry.value) }
        guard let dictionary = builder.dictionary() else { throw fail("duplicate key", at: start) }
        return .dictionary(dictionary)
    }

    /// Reads a map's keys and the byte range of each value, checking only each value's framing,
    /// and makes an entry of each with `entry` (straight into the array returned: one allocation);
    /// `nil` (with nothing consumed) when the next value is not a map. `isSorted` says whether the
    /// keys came in strictly increasing byte order (then there are no duplicates either).
    mutating func readMapSkippingValues<Entry>(
        _ entry: (_ key: String, _ value: Range<Int>) -> Entry
    ) throws -> (entries: [Entry], isSorted: Bool)? {
        let start = position
        let head = try byte()
        let count: Int
        switch head {
        case 0x80...0x8F: count = Int(head & 0x0F)
        case 0xDE: count = Int(try bigEndian(UInt16.self))
        case 0xDF: count = Int(try bigEndian(UInt32.self))
        default:
            position = start
            return nil
        }
        try checkCount(count, minimum: 2)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var previousKey: Range<Int>?
        var isSorted = true
        for _ in 0..<count {
            let keyOffset = try skipKey()
            // The keys of one map are unique: nothing to gain from the string cache here.
            guard let key = UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[keyOffset..<position])) else {
                throw fail("invalid UTF-8 in a key", at: keyOffset)
            }
            let keyRange = keyOffset..<position
            if let previousKey, compareBytes(previousKey, keyRange) >= 0 { isSorted = false }
            previousKey = keyRange
            let valueStart = position
            try skipValue(depth: 1)
            entries.append(entry(key, valueStart..<position))
        }
        return (entries, isSorted)
    }

    /// Reads a key's string header and moves past its bytes; returns where the bytes start.
    @inline(__always)
    private mutating func skipKey() throws -> Int {
        let keyStart = position
        let head = try byte()
        let length: Int
        switch head {
        case 0xA0...0xBF: length = Int(head & 0x1F)
        case 0xD9: length = Int(try byte())
        case 0xDA: length = Int(try bigEndian(UInt16.self))
        case 0xDB: length = Int(try bigEndian(UInt32.self))
        default: throw fail("a map key that is not a string", at: keyStart)
        }
        let offset = position
        _ = try take(length)
        return offset
    }

    /// Moves past one value, checking its framing: lengths within the input, the nesting limit,
    /// string keys, and (by decoding them, which allocates nothing) every scalar but strings and
    /// byte strings, whose bytes are only skipped.
    mutating func skipValue(depth: Int) throws {
        if let end = Self.skip(input, from: position, depth: depth, maximumDepth: maximumDepth) {
            position = end
            return
        }
        // The fast path found a fault; the checked path below finds it again and says what it is.
        let start = position
        let head = try byte()
        switch head {
        case 0x80...0x8F: try skipMap(count: Int(head & 0x0F), depth: depth, start: start)
        case 0x90...0x9F: try skipArray(count: Int(head & 0x0F), depth: depth, start: start)
        case 0xA0...0xBF: _ = try take(Int(head & 0x1F))
        case 0xC4, 0xD9: _ = try take(Int(try byte()))
        case 0xC5, 0xDA: _ = try take(Int(try bigEndian(UInt16.self)))
        case 0xC6, 0xDB: _ = try take(Int(try bigEndian(UInt32.self)))
        case 0xDC: try skipArray(count: Int(try bigEndian(UInt16.self)), depth: depth, start: start)
        case 0xDD: try skipArray(count: Int(try bigEndian(UInt32.self)), depth: depth, start: start)
        case 0xDE: try skipMap(count: Int(try bigEndian(UInt16.self)), depth: depth, start: start)
        case 0xDF: try skipMap(count: Int(try bigEndian(UInt32.self)), depth: depth, start: start)
        default:
            position = start
            _ = try readValue(depth: depth)
        }
    }

    /// The end of the value at `position`, or `nil` when it is not well framed: the same checks
    /// as the throwing path, in straight-line code with no errors to build.
    private static func skip(_ input: UnsafeRawBufferPointer, from position: Int, depth: Int, maximumDepth: Int) -> Int?
    {
        let count = input.count
        guard position < count else { return nil }
        let head = input[position]
        var at = position + 1
        @inline(__always) func length(_ size: Int) -> Int? {
            guard count - at >= size else { return nil }
            var value = 0
            for index in 0..<size { value = value << 8 | Int(input[at + index]) }
            at += size
            return value
        }
        @inline(__always) func bytes(_ size: Int?) -> Int? {
            guard let size, count - at >= size else { return nil }
            return at + size
        }
        func elements(_ elements: Int?, pairs: Bool) -> Int? {
            guard let elements, depth < maximumDepth, elements <= (count - at) / (pairs ? 2 : 1) else { return nil }
            for _ in 0..<elements {
                if pairs {
                    guard at < count else { return nil }
                    let key = input[at]
                    at += 1
                    let keyLength: Int?
                    switch key {
                    case 0xA0...0xBF: keyLength = Int(key & 0x1F)
                    case 0xD9: keyLength = length(1)
                    case 0xDA: keyLength = length(2)
                    case 0xDB: keyLength = length(4)
                    default: return nil
                    }
                    guard let end = bytes(keyLength) else { return nil }
                    at = end
                }
                guard let end = skip(input, from: at, depth: depth + 1, maximumDepth: maximumDepth) else { return nil }
                at = end
            }
            return at
        }
        func timestamp(_ size: Int?) -> Int? {
            guard let size, count - at >= size + 1, input[at] == 0xFF else { return nil }
            let body = at + 1
            var word: UInt64 = 0
            switch size {
            case 4:
                break
            case 8:
                for index in 0..<8 { word = word << 8 | UInt64(input[body + index]) }
                guard word >> 34 < 1_000_000_000 else { return nil }
            case 12:
                var nanoseconds: UInt32 = 0
                for index in 0..<4 { nanoseconds = nanoseconds << 8 | UInt32(input[body + index]) }
                for index in 4..<12 { word = word << 8 | UInt64(input[body + index]) }
                guard nanoseconds < 1_000_000_000 else { return nil }
                // Leave the range check of far dates to the checked path.
                let seconds = Int64(bitPattern: word)
                guard seconds > -9_000_000_000_000, seconds < 9_000_000_000_000 else { return nil }
            default:
                return nil
            }
            return body + size
        }
        switch head {
        case 0x00...0x7F, 0xC0, 0xC2, 0xC3, 0xE0...0xFF: return at
        case 0x80...0x8F: return elements(Int(head & 0x0F), pairs: true)
        case 0x90...0x9F: return elements(Int(head & 0x0F), pairs: false)
        case 0xA0...0xBF: return bytes(Int(head & 0x1F))
        case 0xC4, 0xD9: return bytes(length(1))
        case 0xC5, 0xDA: return bytes(length(2))
        case 0xC6, 0xDB: return bytes(length(4))
        case 0xC7: return timestamp(length(1))
        case 0xC8: return timestamp(length(2))
        case 0xC9: return timestamp(length(4))
        case 0xCA, 0xD2, 0xCE: return bytes(4)
        case 0xCB, 0xD3: return bytes(8)
        case 0xCF: return at < count && input[at] < 0x80 ? bytes(8) : nil
        case 0xCC, 0xD0: return bytes(1)
        case 0xCD, 0xD1: return bytes(2)
        case 0xD6: return timestamp(4)
        case 0xD7: return timestamp(8)
        case 0xDC: return elements(length(2), pairs: false)
        case 0xDD: return elements(length(4), pairs: false)
        case 0xDE: return elements(length(2), pairs: true)
        case 0xDF: return elements(length(4), pairs: true)
        default: return nil
        }
    }

    private mutating func skipArray(count: Int, depth: Int, start: Int) throws {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels", at: start) }
        try checkCount(count, minimum: 1)
        for _ in 0..<count {
            try skipValue(depth: depth + 1)
        }
    }

    private mutating func skipMap(count: Int, depth: Int, start: Int) throws {
        guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels", at: start) }
        try checkCount(count, minimum: 2)
        for _ in 0..<count {
            _ = try skipKey()
            try skipValue(depth: depth + 1)
        }
    }

    /// Orders two ranges of the input by their bytes, as ``UTF8Text/compare(_:_:)`` orders strings.
    @inline(__always)
    private mutating func compareBytes(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        guard let base = input.baseAddress else { return a.count - b.count }
        return UTF8Text.compare(base + a.lowerBound, a.count, base + b.lowerBound, b.count)
    }

    private mutating func readExtension(length: Int, start: Int) throws -> SessionValue {
        let type = Int8(bitPattern: try byte())
        guard type == -1 else { throw fail("extension type \(type) is not the timestamp (-1)", at: start) }
        let body = try take(length)
        var seconds: Int64
        var nanoseconds: UInt32
        switch length {
        case 4:
            seconds = Int64(Self.bigEndian(body, UInt32.self))
            nanoseconds = 0
        case 8:
            let word = Self.bigEndian(body, UInt64.self)
            seconds = Int64(word & 0x3_FFFF_FFFF)
            nanoseconds = UInt32(word >> 34)
        case 12:
            nanoseconds = Self.bigEndian(UnsafeRawBufferPointer(rebasing: body[0..<4]), UInt32.self)
            seconds = Int64(bitPattern: Self.bigEndian(UnsafeRawBufferPointer(rebasing: body[4..<12]), UInt64.self))
        default:
            throw fail("a timestamp of \(length) bytes", at: start)
        }
        guard nanoseconds < 1_000_000_000 else { throw fail("timestamp nanoseconds out of range", at: start) }
        var micros = Int64((nanoseconds + 500) / 1000)
        if micros == 1_000_000 {
            micros = 0
            seconds += 1
        }
        let (scaled, o1) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (total, o2) = scaled.addingReportingOverflow(micros)
        guard !o1, !o2 else { throw fail("timestamp outside the representable range", at: start) }
        return .date(SessionDate(microsecondsSince1970: total))
    }

    private static func bigEndian<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, _ type: T.Type) -> T {
        bytes.reduce(T.zero) { $0 << 8 | T($1) }
    }
}
