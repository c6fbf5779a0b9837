public import SessionPipeline

/// Session values as Apple property lists: binary (`bplist00`, tag `0x22`) or XML (tag `0x23`).
///
/// Property lists have no null, XML property lists keep dates only to the second and cannot hold
/// some characters, so those values get a documented representation — a dictionary with one
/// `$`-key — and every value round-trips exactly:
///
/// | value | property list |
/// |---|---|
/// | null | `{"$null": true}` |
/// | bool, string, bytes, array | `<true/>`/`<false/>`, `<string>`, `<data>`, `<array>` |
/// | int | `<integer>` (binary: 1, 2 or 4 bytes unsigned when it fits, otherwise 8 bytes signed) |
/// | double | `<real>` (binary: 8 bytes, exact; XML: the shortest decimal that reads back exactly, `nan`, `+infinity`, `-infinity`) |
/// | date | `<date>` when the format holds it exactly (binary: a double of seconds since 2001 that rounds back to the same microsecond; XML: whole seconds in years 1–9999), otherwise `{"$date": <integer microseconds since 1970>}` |
/// | string (XML only) with characters XML 1.0 forbids (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, U+FFFF) | `{"$string": <data: the UTF-8 bytes>}`; a carriage return is written `&#13;` so that line-end normalization cannot change it |
/// | dictionary | `<dict>`, keys sorted by their UTF-8 bytes; a key starting with `$` gets one more `$` |
///
/// An XML dictionary *key* with a forbidden character cannot be represented and is refused at
/// write time with ``SessionError/Code/invalidValue``.
///
/// Both formats are written and read by this module, deterministically (Foundation's writer orders
/// dictionary keys by hash, so its output changes from run to run, and writes `-0.0` as `0.0`); the
/// tests check the output against Foundation's `PropertyListSerialization` and Python's `plistlib`.
/// The readers refuse, with ``SessionError/Code/malformed``: truncated input, offsets and lengths
/// outside the input, object references that loop or fan out beyond the input's size, invalid
/// UTF-8 or UTF-16, duplicate keys, non-string keys, and nesting deeper than ``maximumDepth``.
///
/// Property lists are slower than ``JSONSerializer`` and ``MessagePackSerializer``; they are for
/// interoperability with tools that expect them, not for the hot path.
///
/// ```swift
/// let plist = PropertyListSerializer(format: .xml)
/// let bytes = try plist.serialize(["user": "alice", "seen": .null])
/// ```
public struct PropertyListSerializer: SessionSerializer {
    /// The two property-list encodings.
    public enum Format: Sendable, Hashable {
        /// `bplist00`, tag `0x22`.
        case binary
        /// XML, tag `0x23`.
        case xml
    }

    /// The tag of binary property lists, `0x22`.
    public static let binaryTag: UInt8 = 0x22
    /// The tag of XML property lists, `0x23`.
    public static let xmlTag: UInt8 = 0x23

    /// The encoding written.
    public let format: Format
    /// The deepest nesting of arrays and dictionaries written or read.
    public let maximumDepth: Int

    /// Creates the serializer.
    ///
    /// - Parameters:
    ///   - format: Binary or XML.
    ///   - maximumDepth: The deepest nesting accepted, 1 to 1,000. Default 128.
    public init(format: Format, maximumDepth: Int = JSONSerializer.defaultMaximumDepth) {
        precondition((1...1000).contains(maximumDepth), "maximumDepth must be between 1 and 1000")
        self.format = format
        self.maximumDepth = maximumDepth
    }

    /// `0x22` for binary, `0x23` for XML.
    public var tag: UInt8 { format == .binary ? Self.binaryTag : Self.xmlTag }

    /// `plist-binary` or `plist-xml`.
    public var name: String { format == .binary ? "plist-binary" : "plist-xml" }

    private var layer: String { format == .binary ? "PropertyList(binary)" : "PropertyList(XML)" }

    /// Writes `value`, tag first.
    ///
    /// - Throws: ``SessionError/Code/invalidValue`` for nesting deeper than ``maximumDepth``, or (XML)
    ///   a dictionary key holding a character XML cannot carry.
    public func serialize(_ value: SessionValue) throws -> [UInt8] {
        let node = try PropertyListNode(value, format: format, depth: 0, maximumDepth: maximumDepth, layer: layer)
        switch format {
        case .binary: return [tag] + BinaryPropertyList.write(node)
        case .xml: return [tag] + XMLPropertyList.write(node)
        }
    }

    /// Reads a payload written in this serializer's format, tag included.
    ///
    /// - Throws: ``SessionError/Code/unknownFormat`` for another tag, ``SessionError/Code/malformed``
    ///   for bytes that are not a valid property list.
    public func deserialize(_ bytes: [UInt8]) throws -> SessionValue {
        guard bytes.first == tag else {
            throw SessionError(.unknownFormat, "payload does not start with the \(name) tag", layer: layer)
        }
        do {
            let node = try bytes.withUnsafeBytes { raw in
                let body = UnsafeRawBufferPointer(rebasing: raw.dropFirst())
                return switch format {
                case .binary: try BinaryPropertyList.read(body, maximumDepth: maximumDepth)
                case .xml: try XMLPropertyList.read(body, maximumDepth: maximumDepth)
                }
            }
            return try node.sessionValue()
        } catch let failure as PropertyListFailure {
            throw SessionError(.malformed, failure.description, layer: layer)
        }
    }
}

extension SessionSerializer where Self == PropertyListSerializer {
    /// Binary property lists (tag `0x22`).
    public static var propertyListBinary: PropertyListSerializer { PropertyListSerializer(format: .binary) }
    /// XML property lists (tag `0x23`).
    public static var propertyListXML: PropertyListSerializer { PropertyListSerializer(format: .xml) }
}

/// A reason a property list could not be read.
struct PropertyListFailure: Error, CustomStringConvertible {
    let reason: String
    let position: Int?

    init(_ reason: String, at position: Int? = nil) {
        self.reason = reason
        self.position = position
    }

    var description: String {
        position.map { "at byte \($0 + 1): \(reason)" } ?? reason
    }
}

/// Seconds between 1970-01-01 and 2001-01-01, the property-list epoch.
let propertyListEpochOffset: Int64 = 978_307_200

/// A property-list object, between session values and the two encodings.
indirect enum PropertyListNode: Equatable {
    case bool(Bool)
    case integer(Int64)
    case real(Double)
    case string(String)
    case data([UInt8])
    /// Microseconds since 1970; only written for dates the format holds exactly.
    case date(Int64)
    case array([PropertyListNode])
    /// Entries in the order they are written (sorted) or were read.
    case dictionary([(String, PropertyListNode)])

    static func == (lhs: PropertyListNode, rhs: PropertyListNode) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.real(let a), .real(let b)): a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): a == b
        case (.data(let a), .data(let b)): a == b
        case (.date(let a), .date(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.dictionary(let a), .dictionary(let b)): a.elementsEqual(b) { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Maps a session value onto property-list objects, choosing the tagged forms where the format
    /// cannot hold a value itself.
    init(
        _ value: SessionValue,
        format: PropertyListSerializer.Format,
        depth: Int,
        maximumDepth: Int,
        layer: String
    ) throws {
        func child(_ value: SessionValue) throws -> PropertyListNode {
            try PropertyListNode(value, format: format, depth: depth + 1, maximumDepth: maximumDepth, layer: layer)
        }
        func checkDepth() throws {
            guard depth < maximumDepth else {
                throw SessionError(.invalidValue, "value nests deeper than \(maximumDepth) levels", layer: layer)
            }
        }
        switch value {
        case .null:
            self = .dictionary([("$null", .bool(true))])
        case .bool(let bool):
            self = .bool(bool)
        case .int(let int):
            self = .integer(int)
        case .double(let double):
            self = .real(double)
        case .string(let string):
            if format == .xml && !XMLPropertyList.canHold(string) {
                self = .dictionary([("$string", .data(Array(string.utf8)))])
            } else {
                self = .string(string)
            }
        case .bytes(let bytes):
            self = .data(bytes)
        case .date(let date):
            let micros = date.microsecondsSince1970
            let native =
                switch format {
                case .binary: BinaryPropertyList.holdsExactly(micros)
                case .xml: XMLPropertyList.holdsExactly(micros)
                }
            self = native ? .date(micros) : .dictionary([("$date", .integer(micros))])
        case .array(let elements):
            try checkDepth()
            self = .array(try elements.map(child))
        case .dictionary(let entries):
            try checkDepth()
            var nodes: [(String, PropertyListNode)] = []
            nodes.reserveCapacity(entries.count)
            for (key, value) in entries {
                if format == .xml && !XMLPropertyList.canHold(key) {
                    throw SessionError(
                        .invalidValue,
                        "an XML property list cannot hold a dictionary key with a control character",
                        layer: layer
                    )
                }
                nodes.append((key.utf8.first == UInt8(ascii: "$") ? "$" + key : key, try child(value)))
            }
            self = .dictionary(nodes)
        }
    }

    /// Maps property-list objects back to a session value, undoing the tagged forms.
    func sessionValue() throws -> SessionValue {
        switch self {
        case .bool(let bool): return .bool(bool)
        case .integer(let int): return .int(int)
        case .real(let double): return .double(double)
        case .string(let string): return .string(string)
        case .data(let bytes): return .bytes(bytes)
        case .date(let micros): return .date(SessionDate(microsecondsSince1970: micros))
        case .array(let elements): return .array(try elements.map { try $0.sessionValue() })
        case .dictionary(let entries):
            if entries.count == 1, let tagged = try Self.tagged(entries[0]) {
                return tagged
            }
            var values = SessionDictionary.Builder(capacity: entries.count)
            for (key, node) in entries {
                var key = key
                if key.utf8.starts(with: [UInt8(ascii: "$"), UInt8(ascii: "$")]) {
                    key.removeFirst()
                }
                values.append(key, try node.sessionValue())
            }
            guard let dictionary = values.dictionary() else { throw PropertyListFailure("duplicate key") }
            return .dictionary(dictionary)
        }
    }

    private static func tagged(_ entry: (String, PropertyListNode)) throws -> SessionValue? {
        switch entry {
        case ("$null", .bool(true)):
            return .null
        case ("$date", .integer(let micros)):
            return .date(SessionDate(microsecondsSince1970: micros))
        case ("$string", .data(let bytes)):
            guard let string = bytes.withUnsafeBytes(UTF8Text.string) else {
                throw PropertyListFailure("invalid UTF-8 in a $string value")
            }
            return .string(string)
        default:
            return nil
        }
    }
}
