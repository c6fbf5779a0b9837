import SessionPipeline

/// Apple's XML property-list format: the writer produces Apple's layout (tab indentation, sorted
/// keys); the reader accepts the plist elements with any whitespace, comments, a DOCTYPE, CDATA
/// sections and the predefined and numeric character references.
enum XMLPropertyList {
    // MARK: What XML can carry

    /// Whether XML 1.0 can carry every character of `string` (U+0000–U+0008, U+000B, U+000C,
    /// U+000E–U+001F, U+FFFE and U+FFFF cannot appear, even as character references).
    static func canHold(_ string: String) -> Bool {
        string.unicodeScalars.allSatisfy(isXMLCharacter)
    }

    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: true
        case 0x00...0x1F, 0xFFFE, 0xFFFF: false
        default: true
        }
    }

    /// Whether `<date>` holds `micros` exactly: whole seconds in years 1 to 9999.
    static func holdsExactly(_ micros: Int64) -> Bool {
        guard micros % 1_000_000 == 0 else { return false }
        let seconds = micros / 1_000_000
        return seconds >= -62_135_596_800 && seconds <= 253_402_300_799
    }

    // MARK: Writing

    static func write(_ root: PropertyListNode) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        output.append(
            contentsOf: """
                <?xml version="1.0" encoding="UTF-8"?>
                <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
                <plist version="1.0">

                """.utf8
        )
        write(root, indent: 0, into: &output)
        output.append(contentsOf: "</plist>\n".utf8)
        return output
    }

    private static func write(_ node: PropertyListNode, indent: Int, into output: inout [UInt8]) {
        output.append(contentsOf: repeatElement(UInt8(ascii: "\t"), count: indent))
        switch node {
        case .bool(let bool):
            output.append(contentsOf: (bool ? "<true/>" : "<false/>").utf8)
        case .integer(let int):
            element("integer", String(int), into: &output)
        case .real(let double):
            let text: String
            if double.isNaN {
                text = "nan"
            } else if double.isInfinite {
                text = double < 0 ? "-infinity" : "+infinity"
            } else {
                text = double.description
            }
            element("real", text, into: &output)
        case .string(let string):
            output.append(contentsOf: "<string>".utf8)
            escape(string, into: &output)
            output.append(contentsOf: "</string>".utf8)
        case .data(let bytes):
            var text: [UInt8] = []
            Base64.encode(bytes, into: &text, url: false, padded: true)
            element("data", String(decoding: text, as: UTF8.self), into: &output)
        case .date(let micros):
            let seconds = micros / 1_000_000
            var days = seconds / 86_400
            var secondOfDay = seconds % 86_400
            if secondOfDay < 0 {
                secondOfDay += 86_400
                days -= 1
            }
            let (year, month, day) = SessionDate.civilDate(daysSince1970: days)
            func pad(_ value: Int64, _ width: Int) -> String {
                let digits = String(value)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
            let text =
                "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
                + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
            element("date", text, into: &output)
        case .array(let elements):
            if elements.isEmpty {
                output.append(contentsOf: "<array/>".utf8)
            } else {
                output.append(contentsOf: "<array>\n".utf8)
                for element in elements {
                    write(element, indent: indent + 1, into: &output)
                }
                output.append(contentsOf: repeatElement(UInt8(ascii: "\t"), count: indent))
                output.append(contentsOf: "</array>".utf8)
            }
        case .dictionary(let entries):
            if entries.isEmpty {
                output.append(contentsOf: "<dict/>".utf8)
            } else {
                output.append(contentsOf: "<dict>\n".utf8)
                for (key, value) in entries {
                    output.append(contentsOf: repeatElement(UInt8(ascii: "\t"), count: indent + 1))
                    output.append(contentsOf: "<key>".utf8)
                    escape(key, into: &output)
                    output.append(contentsOf: "</key>\n".utf8)
                    write(value, indent: indent + 1, into: &output)
                }
                output.append(contentsOf: repeatElement(UInt8(ascii: "\t"), count: indent))
                output.append(contentsOf: "</dict>".utf8)
            }
        }
        output.append(UInt8(ascii: "\n"))
    }

    private static func element(_ name: String, _ text: String, into output: inout [UInt8]) {
        output.append(contentsOf: "<\(name)>\(text)</\(name)>".utf8)
    }

    /// Escapes markup characters, and carriage returns so that line-end normalization keeps them.
    private static func escape(_ string: String, into output: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            case 0x0D: output.append(contentsOf: "&#13;".utf8)
            default: output.append(byte)
            }
        }
    }

    // MARK: Reading

    static func read(_ input: UnsafeRawBufferPointer, maximumDepth: Int) throws -> PropertyListNode {
        guard UTF8Text.isValid(input.bindMemory(to: UInt8.self)) else {
            throw PropertyListFailure("the document is not valid UTF-8")
        }
        var parser = Parser(input: input, maximumDepth: maximumDepth)
        return try parser.document()
    }

    private struct Parser {
        let input: UnsafeRawBufferPointer
        let maximumDepth: Int
        var position = 0

        init(input: UnsafeRawBufferPointer, maximumDepth: Int) {
            self.input = input
            self.maximumDepth = maximumDepth
        }

        private func fail(_ reason: String, at position: Int? = nil) -> PropertyListFailure {
            PropertyListFailure(reason, at: position ?? self.position)
        }

        private var atEnd: Bool { position >= input.count }

        private func starts(with literal: String) -> Bool {
            let bytes = literal.utf8
            guard input.count - position >= bytes.count else { return false }
            return UnsafeRawBufferPointer(rebasing: input[position..<(position + bytes.count)]).elementsEqual(bytes)
        }

        private mutating func skipWhitespace() {
            while !atEnd, [0x20, 0x09, 0x0A, 0x0D].contains(input[position]) {
                position += 1
            }
        }

        /// Skips to just after `terminator`.
        private mutating func skip(past terminator: String) throws {
            let start = position
            while !atEnd {
                if starts(with: terminator) {
                    position += terminator.utf8.count
                    return
                }
                position += 1
            }
            throw fail("unterminated markup", at: start)
        }

        /// Skips whitespace, comments and processing instructions (and, before the root, a DOCTYPE).
        private mutating func skipMisc(allowDoctype: Bool) throws {
            while true {
                skipWhitespace()
                if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else if allowDoctype && starts(with: "<!DOCTYPE") {
                    try skip(past: ">")
                } else {
                    return
                }
            }
        }

        private struct Tag {
            let name: String
            let closing: Bool
            let empty: Bool
            let position: Int
        }

        /// Reads a tag, ignoring its attributes.
        private mutating func tag() throws -> Tag {
            let start = position
            guard !atEnd, input[position] == UInt8(ascii: "<") else { throw fail("expected an element") }
            position += 1
            let closing = !atEnd && input[position] == UInt8(ascii: "/")
            if closing { position += 1 }
            let nameStart = position
            while !atEnd, Self.isNameByte(input[position]) {
                position += 1
            }
            guard position > nameStart else { throw fail("expected an element name", at: start) }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: input[nameStart..<position]), as: UTF8.self)
            var quote: UInt8?
            while !atEnd {
                let byte = input[position]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    let empty = input[position - 1] == UInt8(ascii: "/")
                    position += 1
                    return Tag(name: name, closing: closing, empty: empty && !closing, position: start)
                } else if byte == UInt8(ascii: "<") {
                    break
                }
                position += 1
            }
            throw fail("unterminated tag <\(name)>", at: start)
        }

        private static func isNameByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: ":"):
                true
            default:
                false
            }
        }

        mutating func document() throws -> PropertyListNode {
            try skipMisc(allowDoctype: true)
            let open = try tag()
            guard open.name == "plist", !open.closing, !open.empty else {
                throw fail("the root element is not <plist>", at: open.position)
            }
            try skipMisc(allowDoctype: false)
            let root = try value(try tag(), depth: 0)
            try skipMisc(allowDoctype: false)
            let close = try tag()
            guard close.name == "plist", close.closing else {
                throw fail("expected </plist> after the root value", at: close.position)
            }
            try skipMisc(allowDoctype: false)
            guard atEnd else { throw fail("text after </plist>") }
            return root
        }

        /// The value whose opening tag is `open`.
        private mutating func value(_ open: Tag, depth: Int) throws -> PropertyListNode {
            guard !open.closing else { throw fail("unexpected </\(open.name)>", at: open.position) }
            switch open.name {
            case "true", "false":
                if !open.empty {
                    try closing(open)
                }
                return .bool(open.name == "true")
            case "dict":
                return try dictionary(open, depth: depth)
            case "array":
                return try array(open, depth: depth)
            case "string":
                return .string(open.empty ? "" : try text(until: open))
            case "data":
                let text = open.empty ? "" : try text(until: open)
                let compact = text.utf8.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
                guard let bytes = Base64.decode(compact, url: false) else {
                    throw fail("invalid base64 in <data>", at: open.position)
                }
                return .data(bytes)
            case "integer":
                let text = try text(until: open)
                guard let int = Int64(text.trimmingWhitespace()) else {
                    throw fail("invalid or out-of-range <integer>", at: open.position)
                }
                return .integer(int)
            case "real":
                let text = try text(until: open).trimmingWhitespace()
                guard let double = Self.real(text) else { throw fail("invalid <real>", at: open.position) }
                return .real(double)
            case "date":
                let text = try text(until: open)
                guard let micros = Self.date(text.trimmingWhitespace()) else {
                    throw fail("invalid <date> (expected YYYY-MM-DDTHH:MM:SSZ)", at: open.position)
                }
                return .date(micros)
            default:
                throw fail("unexpected element <\(open.name)>", at: open.position)
            }
        }

        private mutating func closing(_ open: Tag) throws {
            let close = try tag()
            guard close.closing, close.name == open.name else {
                throw fail("expected </\(open.name)>", at: close.position)
            }
        }

        private mutating func array(_ open: Tag, depth: Int) throws -> PropertyListNode {
            guard depth < maximumDepth else {
                throw fail("nesting deeper than \(maximumDepth) levels", at: open.position)
            }
            if open.empty { return .array([]) }
            var elements: [PropertyListNode] = []
            while true {
                try skipMisc(allowDoctype: false)
                let next = try tag()
                if next.closing {
                    guard next.name == "array" else { throw fail("expected </array>", at: next.position) }
                    return .array(elements)
                }
                elements.append(try value(next, depth: depth + 1))
            }
        }

        private mutating func dictionary(_ open: Tag, depth: Int) throws -> PropertyListNode {
            guard depth < maximumDepth else {
                throw fail("nesting deeper than \(maximumDepth) levels", at: open.position)
            }
            if open.empty { return .dictionary([]) }
            var entries: [(String, PropertyListNode)] = []
            var seen: Set<String> = []
            while true {
                try skipMisc(allowDoctype: false)
                let next = try tag()
                if next.closing {
                    guard next.name == "dict" else { throw fail("expected </dict>", at: next.position) }
                    return .dictionary(entries)
                }
                guard next.name == "key" else { throw fail("expected <key> in <dict>", at: next.position) }
                let key = next.empty ? "" : try text(until: next)
                guard seen.insert(key).inserted else { throw fail("duplicate key", at: next.position) }
                try skipMisc(allowDoctype: false)
                entries.append((key, try value(try tag(), depth: depth + 1)))
            }
        }

        /// The character data up to the closing tag of `open`, with references and CDATA decoded
        /// and line ends normalized as XML requires.
        private mutating func text(until open: Tag) throws -> String {
            var bytes: [UInt8] = []
            while true {
                guard !atEnd else { throw fail("unterminated <\(open.name)>", at: open.position) }
                let byte = input[position]
                if byte == UInt8(ascii: "<") {
                    if starts(with: "<![CDATA[") {
                        position += 9
                        let start = position
                        try skip(past: "]]>")
                        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<(position - 3)]))
                        continue
                    }
                    if starts(with: "<!--") {
                        try skip(past: "-->")
                        continue
                    }
                    try closing(open)
                    return String(decoding: bytes, as: UTF8.self)
                } else if byte == UInt8(ascii: "&") {
                    try reference(into: &bytes)
                } else if byte == 0x0D {
                    bytes.append(0x0A)
                    position += 1
                    if !atEnd, input[position] == 0x0A { position += 1 }
                } else if byte < 0x20 && byte != 0x09 && byte != 0x0A {
                    throw fail("a control character XML does not allow")
                } else if byte == 0xEF, input.count - position >= 3, input[position + 1] == 0xBF,
                    input[position + 2] == 0xBE || input[position + 2] == 0xBF
                {
                    throw fail("U+FFFE or U+FFFF, which XML does not allow")
                } else {
                    bytes.append(byte)
                    position += 1
                }
            }
        }

        private mutating func reference(into bytes: inout [UInt8]) throws {
            let start = position
            guard let end = input[position...].firstIndex(of: UInt8(ascii: ";")), end - position <= 12 else {
                throw fail("unterminated character reference")
            }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: input[(position + 1)..<end]), as: UTF8.self)
            position = end + 1
            let scalar: Unicode.Scalar?
            switch name {
            case "lt": scalar = "<"
            case "gt": scalar = ">"
            case "amp": scalar = "&"
            case "quot": scalar = "\""
            case "apos": scalar = "'"
            default:
                if name.hasPrefix("#x") {
                    scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if name.hasPrefix("#") {
                    scalar = UInt32(name.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init)
                } else {
                    scalar = nil
                }
            }
            guard let scalar, XMLPropertyList.isXMLCharacter(scalar) else {
                throw fail("invalid character reference &\(name);", at: start)
            }
            bytes.append(contentsOf: String(Character(scalar)).utf8)
        }

        private static func real(_ text: String) -> Double? {
            switch text.lowercased() {
            case "nan": return .nan
            case "inf", "+inf", "infinity", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            default:
                guard let first = text.utf8.first,
                    first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                        || first == UInt8(ascii: ".") || (0x30...0x39).contains(first)
                else { return nil }
                return Double(text)
            }
        }

        /// `YYYY-MM-DDTHH:MM:SSZ` to microseconds since 1970.
        private static func date(_ text: String) -> Int64? {
            let bytes = Array(text.utf8)
            guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
                bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                bytes[19] == UInt8(ascii: "Z")
            else { return nil }
            func number(_ range: Range<Int>) -> Int64? {
                var value: Int64 = 0
                for index in range {
                    guard (0x30...0x39).contains(bytes[index]) else { return nil }
                    value = value * 10 + Int64(bytes[index] - 0x30)
                }
                return value
            }
            guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
                let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
                (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
            else { return nil }
            let days = daysSince1970(year: year, month: month, day: day)
            guard SessionDate.civilDate(daysSince1970: days) == (year, month, day) else { return nil }
            return ((days * 86_400) + hour * 3600 + minute * 60 + second) * 1_000_000
        }

        /// Howard Hinnant's `days_from_civil`.
        private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            return era * 146_097 + doe - 719_468
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let utf8 = Array(self.utf8)
        let isSpace = { (byte: UInt8) in [0x20, 0x09, 0x0A, 0x0D].contains(byte) }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(decoding: utf8[first...last], as: UTF8.self)
    }
}
