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
