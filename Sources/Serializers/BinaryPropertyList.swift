/// Apple's binary property-list format, `bplist00`: a header, the objects, a table of their
/// offsets, and a 32-byte trailer.
enum BinaryPropertyList {
    private static let magic = Array("bplist00".utf8)
    private static let trailerLength = 32

    // MARK: Dates

    /// Whether a date of `micros` microseconds since 1970 survives a trip through the format's
    /// double of seconds since 2001.
    static func holdsExactly(_ micros: Int64) -> Bool {
        guard let seconds = secondsSince2001(micros) else { return false }
        return self.micros(fromSecondsSince2001: seconds) == micros
    }

    private static func secondsSince2001(_ micros: Int64) -> Double? {
        let (shifted, overflow) = micros.subtractingReportingOverflow(propertyListEpochOffset * 1_000_000)
        return overflow ? nil : Double(shifted) / 1_000_000
    }

    static func micros(fromSecondsSince2001 seconds: Double) -> Int64? {
        let scaled = (seconds * 1_000_000).rounded()
        guard scaled.isFinite, let whole = Int64(exactly: scaled) else { return nil }
        let (micros, overflow) = whole.addingReportingOverflow(propertyListEpochOffset * 1_000_000)
        return overflow ? nil : micros
    }

    // MARK: Writing

    private enum Object {
        case leaf(PropertyListNode)
        case array([Int])
        case dictionary(keys: [Int], values: [Int])
    }

    /// Encodes `root` with one object per node (no sharing), in depth-first order, so equal trees
    /// give equal bytes.
    static func write(_ root: PropertyListNode) -> [UInt8] {
        var objects: [Object] = []
        func flatten(_ node: PropertyListNode) -> Int {
            let index = objects.count
            switch node {
            case .array(let elements):
                objects.append(.array([]))
                let references = elements.map(flatten)
                objects[index] = .array(references)
            case .dictionary(let entries):
                objects.append(.array([]))
                let keys = entries.map { flatten(.string($0.0)) }
                let values = entries.map { flatten($0.1) }
                objects[index] = .dictionary(keys: keys, values: values)
            default:
                objects.append(.leaf(node))
            }
            return index
        }
        _ = flatten(root)

        let referenceSize = byteCount(for: UInt64(objects.count - 1))
        var output = magic
        var offsets: [Int] = []
        offsets.reserveCapacity(objects.count)
        for object in objects {
            offsets.append(output.count)
            switch object {
            case .leaf(let node):
                writeLeaf(node, into: &output)
            case .array(let references):
                writeMarker(0xA0, count: references.count, into: &output)
                for reference in references {
                    appendBigEndian(UInt64(reference), size: referenceSize, to: &output)
                }
            case .dictionary(let keys, let values):
                writeMarker(0xD0, count: keys.count, into: &output)
                for reference in keys + values {
                    appendBigEndian(UInt64(reference), size: referenceSize, to: &output)
                }
            }
        }
        let offsetTableOffset = output.count
        let offsetSize = byteCount(for: UInt64(offsetTableOffset))
        for offset in offsets {
            appendBigEndian(UInt64(offset), size: offsetSize, to: &output)
        }
        output.append(contentsOf: [0, 0, 0, 0, 0, 0, UInt8(offsetSize), UInt8(referenceSize)])
        appendBigEndian(UInt64(objects.count), size: 8, to: &output)
        appendBigEndian(0, size: 8, to: &output)
        appendBigEndian(UInt64(offsetTableOffset), size: 8, to: &output)
        return output
    }

    private static func byteCount(for value: UInt64) -> Int {
        switch value {
        case 0...0xFF: 1
        case 0...0xFFFF: 2
        case 0...0xFFFF_FFFF: 4
        default: 8
        }
    }

    private static func appendBigEndian(_ value: UInt64, size: Int, to output: inout [UInt8]) {
        for shift in stride(from: (size - 1) * 8, through: 0, by: -8) {
            output.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// A marker byte whose low nibble holds `count`, or 0xF followed by an integer object.
    private static func writeMarker(_ marker: UInt8, count: Int, into output: inout [UInt8]) {
        if count < 15 {
            output.append(marker | UInt8(count))
        } else {
            output.append(marker | 0x0F)
            writeLeaf(.integer(Int64(count)), into: &output)
        }
    }

    private static func writeLeaf(_ node: PropertyListNode, into output: inout [UInt8]) {
        switch node {
        case .bool(let bool):
            output.append(bool ? 0x09 : 0x08)
        case .integer(let int):
            if int < 0 {
                output.append(0x13)
                appendBigEndian(UInt64(bitPattern: int), size: 8, to: &output)
            } else {
                let size = byteCount(for: UInt64(int))
                output.append(0x10 | UInt8(size.trailingZeroBitCount))
                appendBigEndian(UInt64(int), size: size, to: &output)
            }
        case .real(let double):
            output.append(0x23)
            appendBigEndian(double.bitPattern, size: 8, to: &output)
        case .date(let micros):
            output.append(0x33)
            appendBigEndian(secondsSince2001(micros)!.bitPattern, size: 8, to: &output)
        case .data(let bytes):
            writeMarker(0x40, count: bytes.count, into: &output)
            output.append(contentsOf: bytes)
        case .string(let string):
            if string.utf8.allSatisfy({ $0 < 0x80 }) {
                writeMarker(0x50, count: string.utf8.count, into: &output)
                output.append(contentsOf: string.utf8)
            } else {
                let units = Array(string.utf16)
                writeMarker(0x60, count: units.count, into: &output)
                for unit in units {
                    output.append(UInt8(unit >> 8))
                    output.append(UInt8(unit & 0xFF))
                }
            }
        case .array, .dictionary:
            preconditionFailure("containers are written by write(_:)")
        }
    }

    // MARK: Reading

    /// Reads a binary property list, checking every offset, length and reference against the input.
    static func read(_ input: UnsafeRawBufferPointer, maximumDepth: Int) throws -> PropertyListNode {
        var reader = try Reader(input: input, maximumDepth: maximumDepth)
        return try reader.object(reader.topObject, depth: 0)
    }

    private struct Reader {
        let input: UnsafeRawBufferPointer
        let maximumDepth: Int
        let offsetSize: Int
        let referenceSize: Int
        let objectCount: Int
        let topObject: Int
        let offsetTableOffset: Int
        /// Objects left to visit: a graph that shares containers could otherwise expand
        /// exponentially, so visits are bounded by the input's size.
        var budget: Int

        init(input: UnsafeRawBufferPointer, maximumDepth: Int) throws {
            self.input = input
            self.maximumDepth = maximumDepth
            guard input.count >= magic.count + trailerLength else {
                throw PropertyListFailure("shorter than a binary property list can be")
            }
            guard input.prefix(magic.count).elementsEqual(magic) else {
                throw PropertyListFailure("missing the bplist00 header", at: 0)
            }
            let trailer = input.count - trailerLength
            offsetSize = Int(input[trailer + 6])
            referenceSize = Int(input[trailer + 7])
            guard (1...8).contains(offsetSize), (1...8).contains(referenceSize) else {
                throw PropertyListFailure("invalid offset or reference size in the trailer", at: trailer)
            }
            let count = Self.bigEndian(input, at: trailer + 8, size: 8)
            let top = Self.bigEndian(input, at: trailer + 16, size: 8)
            let tableOffset = Self.bigEndian(input, at: trailer + 24, size: 8)
            guard count >= 1, count <= UInt64(input.count), top < count,
                tableOffset >= UInt64(magic.count), tableOffset <= UInt64(trailer),
                count * UInt64(offsetSize) <= UInt64(trailer) - tableOffset
            else {
                throw PropertyListFailure("the trailer's counts and offsets do not fit the input", at: trailer)
            }
            objectCount = Int(count)
            topObject = Int(top)
            offsetTableOffset = Int(tableOffset)
            budget = input.count
        }

        private static func bigEndian(_ input: UnsafeRawBufferPointer, at offset: Int, size: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<size {
                value = value << 8 | UInt64(input[offset + index])
            }
            return value
        }

        private func fail(_ reason: String, at position: Int) -> PropertyListFailure {
            PropertyListFailure(reason, at: position + 1)
        }

        /// Checks that `count` bytes starting at `position` lie inside the object area.
        private func check(_ position: Int, _ count: Int) throws {
            guard count >= 0, position >= 0, position <= offsetTableOffset, count <= offsetTableOffset - position else {
                throw fail("a length of \(count) runs past the objects", at: position)
            }
        }

        private func offset(of object: Int) throws -> Int {
            let entry = offsetTableOffset + object * offsetSize
            let offset = Self.bigEndian(input, at: entry, size: offsetSize)
            guard offset >= UInt64(magic.count), offset < UInt64(offsetTableOffset) else {
                throw fail("object \(object) has an offset outside the objects", at: entry)
            }
            return Int(offset)
        }

        private func reference(at position: Int) throws -> Int {
            let value = Self.bigEndian(input, at: position, size: referenceSize)
            guard value < UInt64(objectCount) else { throw fail("a reference to a missing object", at: position) }
            return Int(value)
        }

        /// The count in a marker's low nibble, or the integer object after it; returns the count and
        /// the position after it.
        private func count(_ marker: UInt8, at position: Int) throws -> (Int, Int) {
            let nibble = Int(marker & 0x0F)
            guard nibble == 0x0F else { return (nibble, position + 1) }
            try check(position + 1, 1)
            let intMarker = input[position + 1]
            guard intMarker & 0xF0 == 0x10, intMarker & 0x0F <= 3 else {
                throw fail("a length that is not an integer", at: position + 1)
            }
            let size = 1 << Int(intMarker & 0x0F)
            try check(position + 2, size)
            let value = Self.bigEndian(input, at: position + 2, size: size)
            guard value <= UInt64(offsetTableOffset) else { throw fail("a length past the input", at: position + 2) }
            return (Int(value), position + 2 + size)
        }

        mutating func object(_ index: Int, depth: Int) throws -> PropertyListNode {
            budget -= 1
            guard budget >= 0 else {
                throw PropertyListFailure("object references expand beyond the size of the input")
            }
            let position = try offset(of: index)
            let marker = input[position]
            switch marker >> 4 {
            case 0x0:
                switch marker {
                case 0x08: return .bool(false)
                case 0x09: return .bool(true)
                default: throw fail("unsupported object marker 0x\(String(marker, radix: 16))", at: position)
                }
            case 0x1:
                let sizeExponent = Int(marker & 0x0F)
                guard sizeExponent <= 4 else { throw fail("an integer of unsupported size", at: position) }
                let size = 1 << sizeExponent
                try check(position + 1, size)
                if size == 16 {
                    let high = Self.bigEndian(input, at: position + 1, size: 8)
                    let low = Self.bigEndian(input, at: position + 9, size: 8)
                    guard high == 0 || high == UInt64.max,
                        let value = Int64(exactly: Int128(Int64(bitPattern: high)) << 64 | Int128(low))
                    else {
                        throw fail("an integer outside Int64", at: position)
                    }
                    return .integer(value)
                }
                let raw = Self.bigEndian(input, at: position + 1, size: size)
                return .integer(size == 8 ? Int64(bitPattern: raw) : Int64(raw))
            case 0x2:
                switch marker & 0x0F {
                case 2:
                    try check(position + 1, 4)
                    return .real(Double(Float(bitPattern: UInt32(Self.bigEndian(input, at: position + 1, size: 4)))))
                case 3:
                    try check(position + 1, 8)
                    return .real(Double(bitPattern: Self.bigEndian(input, at: position + 1, size: 8)))
                default:
                    throw fail("a real of unsupported size", at: position)
                }
            case 0x3:
                guard marker == 0x33 else { throw fail("unsupported date marker", at: position) }
                try check(position + 1, 8)
                let seconds = Double(bitPattern: Self.bigEndian(input, at: position + 1, size: 8))
                guard let micros = micros(fromSecondsSince2001: seconds) else {
                    throw fail("a date outside the representable range", at: position)
                }
                return .date(micros)
            case 0x4:
                let (length, start) = try count(marker, at: position)
                try check(start, length)
                return .data(Array(UnsafeRawBufferPointer(rebasing: input[start..<(start + length)])))
            case 0x5, 0x6:
                return .string(try string(at: position))
            case 0xA:
                guard depth < maximumDepth else {
                    throw fail("nesting deeper than \(maximumDepth) levels", at: position)
                }
                let (length, start) = try count(marker, at: position)
                try check(
                    start, length.multipliedReportingOverflow(by: referenceSize).overflow ? -1 : length * referenceSize)
                var elements: [PropertyListNode] = []
                elements.reserveCapacity(length)
                for slot in 0..<length {
                    elements.append(try object(reference(at: start + slot * referenceSize), depth: depth + 1))
                }
                return .array(elements)
            case 0xD:
                guard depth < maximumDepth else {
                    throw fail("nesting deeper than \(maximumDepth) levels", at: position)
                }
                let (length, start) = try count(marker, at: position)
                let (doubled, overflow) = length.multipliedReportingOverflow(by: 2 * referenceSize)
                try check(start, overflow ? -1 : doubled)
                var entries: [(String, PropertyListNode)] = []
                entries.reserveCapacity(length)
                var seen: Set<String> = []
                for slot in 0..<length {
                    let keyObject = try reference(at: start + slot * referenceSize)
                    let keyPosition = try offset(of: keyObject)
                    guard input[keyPosition] >> 4 == 0x5 || input[keyPosition] >> 4 == 0x6 else {
                        throw fail("a dictionary key that is not a string", at: keyPosition)
                    }
                    budget -= 1
                    let key = try string(at: keyPosition)
                    guard seen.insert(key).inserted else { throw fail("duplicate key", at: keyPosition) }
                    let value = try object(reference(at: start + (length + slot) * referenceSize), depth: depth + 1)
                    entries.append((key, value))
                }
                return .dictionary(entries)
            default:
                throw fail("unsupported object marker 0x\(String(marker, radix: 16))", at: position)
            }
        }

        /// An ASCII (`0x5n`) or UTF-16 (`0x6n`) string object at `position`.
        private func string(at position: Int) throws -> String {
            let marker = input[position]
            let (length, start) = try count(marker, at: position)
            if marker >> 4 == 0x5 {
                try check(start, length)
                let bytes = UnsafeRawBufferPointer(rebasing: input[start..<(start + length)])
                guard bytes.allSatisfy({ $0 < 0x80 }) else {
                    throw fail("a non-ASCII byte in an ASCII string", at: start)
                }
                return String(decoding: bytes, as: UTF8.self)
            }
            let (byteLength, overflow) = length.multipliedReportingOverflow(by: 2)
            try check(start, overflow ? -1 : byteLength)
            var units: [UInt16] = []
            units.reserveCapacity(length)
            for unit in 0..<length {
                units.append(UInt16(input[start + 2 * unit]) << 8 | UInt16(input[start + 2 * unit + 1]))
            }
            guard let string = String(validating: units, as: UTF16.self) else {
                throw fail("invalid UTF-16 in a string", at: start)
            }
            return string
        }
    }
}
