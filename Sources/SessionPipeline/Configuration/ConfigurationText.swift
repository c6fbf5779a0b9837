/// A store or driver that can name itself in a configuration string.
public protocol ConfigurationDescribable {
    /// The component that builds it, such as `driver:file,root=/var/lib/app/sessions`; never holds
    /// secrets.
    var configurationComponent: String { get }
}

/// Escaping and naming for configuration strings.
public enum ConfigurationText {
    /// `value` with `%`, `;`, `,` and `=` written as `%25`, `%3B`, `%2C` and `%3D`, so it fits in an
    /// argument; whitespace, control characters and non-ASCII characters are written as the
    /// `%XX` escapes of their UTF-8 bytes too, so that the parser (which trims whitespace around
    /// items and reads text as characters, where a combining mark joins the character before it)
    /// reads back exactly `value`.
    public static func escape(_ value: String) -> String {
        var escaped = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: "="), 0...0x20, 0x7F...:
                escaped += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            default:
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return escaped
    }

    /// A store's configuration component: its own when it describes itself, otherwise
    /// `driver:` and its type.
    public static func component(of store: Any) -> String {
        if let describable = store as? any ConfigurationDescribable {
            return describable.configurationComponent
        }
        if let erased = store as? any AnyRecordStoreProtocol {
            return component(of: erased.erasedBase)
        }
        return "driver:\(type(of: store))"
    }
}

/// Lets ``ConfigurationText/component(of:)`` see through ``AnyRecordStore``.
protocol AnyRecordStoreProtocol {
    var erasedBase: Any { get }
}

extension AnyRecordStore: AnyRecordStoreProtocol {
    var erasedBase: Any { base }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
