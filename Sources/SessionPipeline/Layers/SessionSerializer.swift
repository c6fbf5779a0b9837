/// A format that turns a ``SessionValue`` into bytes and back.
///
/// Every payload a serializer writes starts with its ``tag`` byte, so the ``Serialization`` layer
/// can read payloads written by any format it knows, whatever format it writes. Tags `0x20`–`0x3F`
/// belong to the library's formats (JSON `0x20`, binary `0x21`, property lists `0x22` and `0x23`);
/// `0x40`–`0x7F` are for users' own.
///
/// A serializer must round-trip every value it accepts exactly (``SessionValue``'s equality) and
/// refuse what it cannot represent with ``SessionError/Code/invalidValue`` at write time; it lists
/// what it can hold in ``representableKinds``. Reading hostile bytes must never crash: truncated or
/// malformed input throws ``SessionError/Code/malformed``.
///
/// ```swift
/// struct MyFormat: SessionSerializer {
///     var tag: UInt8 { 0x40 }
///     var name: String { "my-format" }
///     func serialize(_ value: SessionValue) throws -> [UInt8] { [tag] + … }
///     func deserialize(_ bytes: [UInt8]) throws -> SessionValue { … }
/// }
/// ```
public protocol SessionSerializer: Sendable {
    /// The first byte of every payload this format writes.
    var tag: UInt8 { get }
    /// A short name, such as `json`.
    var name: String { get }
    /// The kinds this format can write; others are refused at write time. Defaults to all.
    var representableKinds: SessionValue.Kinds { get }

    /// Writes `value`, tag byte first.
    func serialize(_ value: SessionValue) throws -> [UInt8]

    /// Reads a payload this format wrote, tag byte included.
    func deserialize(_ bytes: [UInt8]) throws -> SessionValue
}

extension SessionSerializer {
    /// All kinds.
    public var representableKinds: SessionValue.Kinds { .all }
}

/// A value still in its serialized form: the bytes of one value inside a payload that a
/// ``SplicingSerializer`` read, decoded only when used and written back byte for byte when not.
public struct EncodedValue: Sendable, Equatable {
    /// The tag of the format the bytes are in.
    public let tag: UInt8
    /// The value's bytes, without the tag.
    public let bytes: ArraySlice<UInt8>

    /// A value of format `tag` held in `bytes`.
    public init(tag: UInt8, bytes: ArraySlice<UInt8>) {
        self.tag = tag
        self.bytes = bytes
    }

    /// The value a whole payload holds: its first byte is the tag, the rest the value.
    ///
    /// - Precondition: `payload` is not empty.
    public init(payload: [UInt8]) {
        precondition(!payload.isEmpty, "a payload starts with its tag")
        self.init(tag: payload[0], bytes: payload[1...])
    }
}

/// A dictionary entry whose value is still encoded.
public struct EncodedEntry: Sendable, Equatable {
    /// The key.
    public let key: String
    /// The value, as read.
    public let value: EncodedValue

    /// An entry.
    public init(key: String, value: EncodedValue) {
        self.key = key
        self.value = value
    }
}

/// A value to write in which some parts are already encoded.
public enum SplicedValue: Sendable {
    // Not `indirect`: the one recursive case holds an array, which is already a reference, and an
    // indirect enum puts every value and every encoded entry in a heap box of its own.

    /// A decoded value, encoded when written.
    case value(SessionValue)
    /// Bytes written as they are: they must be in the writing format.
    case encoded(EncodedValue)
    /// A dictionary of such parts; keys are unique, in any order.
    case dictionary([(key: String, value: SplicedValue)])
}

/// A serializer that reads a dictionary without decoding its values and writes one whose values
/// are partly still encoded.
///
/// A request that reads or changes one key of a large session then decodes and encodes that key
/// only: the rest of the session goes from the request's cookie to the response's byte for byte.
/// ``SessionManager`` uses it for cookies when the cookie codec's serializer conforms
/// (``MessagePackSerializer`` does) and the cookie was written in the same format.
///
/// Reading checks the framing of every value (lengths within the input, the nesting limit, keys
/// that are strings, no duplicate keys at the level read), so each ``EncodedValue`` is exactly one
/// value; what a value holds (UTF-8, nested keys) is checked when it is decoded.
public protocol SplicingSerializer: SessionSerializer {
    /// The entries of the dictionary `value` holds, sorted by the UTF-8 bytes of their keys, each
    /// value left encoded; `nil` when `value` holds something other than a dictionary.
    ///
    /// - Throws: ``SessionError/Code/unknownFormat`` for a value in another format,
    ///   ``SessionError/Code/malformed`` for bytes that are not one well-framed value.
    func entries(of value: EncodedValue) throws -> [EncodedEntry]?

    /// Decodes one value this serializer read.
    ///
    /// - Throws: as ``SessionSerializer/deserialize(_:)``.
    func decode(_ value: EncodedValue) throws -> SessionValue

    /// Writes `value`, tag byte first: the same bytes ``SessionSerializer/serialize(_:)`` writes
    /// for the value it stands for.
    ///
    /// - Throws: ``SessionError/Code/invalidValue`` for encoded parts in another format, duplicate
    ///   keys, or what ``SessionSerializer/serialize(_:)`` refuses.
    func serialize(_ value: SplicedValue) throws -> [UInt8]
}
