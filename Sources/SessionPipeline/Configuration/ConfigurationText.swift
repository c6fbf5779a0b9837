/// A store or driver that can name itself in a configuration string.
public protocol ConfigurationDescribable {
    /// The component that builds it, such as `driver:file,root=/var/lib/app/sessions`; never holds
    /// secrets.
    var configurationComponent: String { get }
}

/// Escaping and naming for configuration strings.
public enum ConfigurationText {
    /// `value` with `%`, `;`, `,` and `=` written as `%25`, `%3B`, `%2C` and `%3D`, so it fits in an
    /// argument.
    public static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value.unicodeScalars {
            switch character {
            case "%": escaped += "%25"
            case ";": escaped += "%3B"
            case ",": escaped += "%2C"
            case "=": escaped += "%3D"
            default: escaped.unicodeScalars.append(character)
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
