/// One `kind:name,key=value,…` component of a configuration string, as parsed.
///
/// Factories registered in a ``ConfigurationRegistry`` read their settings through the typed
/// accessors, which fail with the position of the offending text.
public struct ConfigurationComponent: Sendable, CustomStringConvertible {
    /// One `key=value` argument.
    public struct Argument: Sendable {
        /// The key.
        public let key: String
        /// The value, with `%XX` escapes decoded.
        public let value: String
        /// Where the argument starts in the configuration string (1-based character offset).
        public let position: Int
    }

    /// The component's kind, before the colon: `driver`, `serializer`, `encrypt`, …
    public let kind: String
    /// The name after the colon, when the first item is not an argument (`file` in `driver:file`).
    public let name: String?
    /// The arguments, in the order written.
    public let arguments: [Argument]
    /// Where the component starts (1-based character offset).
    public let position: Int
    let namePosition: Int

    /// A ``SessionError/Code/invalidConfiguration`` error at `position` (the component's, by default).
    public func error(_ reason: String, at position: Int? = nil) -> SessionError {
        SessionError(
            .invalidConfiguration,
            "at character \(position ?? self.position): \(reason)",
            layer: "Configuration"
        )
    }

    /// An error about the component's name.
    public func nameError(_ reason: String) -> SessionError {
        error(reason, at: namePosition)
    }

    /// Refuses arguments other than `allowed`.
    public func allowArguments(_ allowed: Set<String>) throws {
        for argument in arguments where !allowed.contains(argument.key) {
            let known = allowed.isEmpty ? "it takes none" : "it takes " + allowed.sorted().joined(separator: ", ")
            throw error("\(kind) does not take the argument '\(argument.key)'; \(known)", at: argument.position)
        }
    }

    /// The value of `key`, if given.
    public func string(_ key: String) -> String? {
        arguments.last { $0.key == key }?.value
    }

    private func argument(_ key: String) -> Argument? {
        arguments.last { $0.key == key }
    }

    /// The value of `key`, which must be given.
    public func requiredString(_ key: String) throws -> String {
        guard let value = string(key) else { throw error("\(kind) needs the argument '\(key)'") }
        return value
    }

    /// The integer value of `key` within `range`, if given.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let argument = argument(key) else { return nil }
        guard let value = Int(argument.value), range.contains(value) else {
            throw error(
                "'\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound)",
                at: argument.position
            )
        }
        return value
    }

    /// The yes/no value of `key` (`yes`, `no`, `true`, `false`, `1`, `0`), if given.
    public func boolean(_ key: String) throws -> Bool? {
        guard let argument = argument(key) else { return nil }
        switch argument.value.lowercased() {
        case "yes", "true", "1", "on": return true
        case "no", "false", "0", "off": return false
        default: throw error("'\(key)' must be yes or no", at: argument.position)
        }
    }

    /// The value of `key` in seconds, if given.
    public func seconds(_ key: String) throws -> Duration? {
        try integer(key, in: 0...Int(Int32.max)).map { .seconds($0) }
    }

    /// Where a key for a layer comes from: exactly one of `env=NAME` or `file=PATH`.
    public func keySource() throws -> SecretKey.Source {
        switch (string("env"), string("file")) {
        case (let name?, nil): return .environment(name)
        case (nil, let path?): return .file(path)
        case (nil, nil):
            throw error("\(kind) needs env=VARIABLE or file=PATH (keys are referenced, never written inline)")
        case (_?, _?): throw error("\(kind) takes env= or file=, not both")
        }
    }

    /// `kind:name,key=value…` as parsed.
    public var description: String {
        var items = name.map { [ConfigurationText.escape($0)] } ?? []
        items += arguments.map { "\($0.key)=\(ConfigurationText.escape($0.value))" }
        return "\(kind):" + items.joined(separator: ",")
    }

    // MARK: Parsing

    /// Splits a configuration string into components; bare `key=value` segments attach to the
    /// component before them (`driver:file;root=/var/lib/app`).
    package static func parse(_ text: String) throws -> [ConfigurationComponent] {
        let characters = Array(text)
        func fail(_ reason: String, at index: Int) -> SessionError {
            SessionError(.invalidConfiguration, "at character \(index + 1): \(reason)", layer: "Configuration")
        }
        guard !characters.allSatisfy(\.isWhitespace) else { throw fail("the configuration is empty", at: 0) }
        var components: [ConfigurationComponent] = []
        var start = 0
        while start <= characters.count {
            var end = start
            while end < characters.count && characters[end] != ";" { end += 1 }
            var from = start
            var to = end
            while from < to && characters[from].isWhitespace { from += 1 }
            while to > from && characters[to - 1].isWhitespace { to -= 1 }
            guard from < to else {
                throw fail(end == characters.count ? "nothing after the last ';'" : "an empty component", at: start)
            }
            let segment = Array(characters[from..<to])
            let colon = segment.firstIndex(of: ":")
            let equals = segment.firstIndex(of: "=")
            if let colon, equals.map({ colon < $0 }) ?? true {
                components.append(try component(segment, colon: colon, offset: from, fail: fail))
            } else if equals != nil {
                guard let last = components.popLast() else {
                    throw fail("an argument before any component (expected kind:name first)", at: from)
                }
                let argument = try argument(segment, offset: from, fail: fail)
                components.append(
                    ConfigurationComponent(
                        kind: last.kind,
                        name: last.name,
                        arguments: last.arguments + [argument],
                        position: last.position,
                        namePosition: last.namePosition
                    )
                )
            } else {
                throw fail("expected kind:name or key=value", at: from)
            }
            start = end + 1
        }
        return components
    }

    private static func component(
        _ segment: [Character],
        colon: Int,
        offset: Int,
        fail: (String, Int) -> SessionError
    ) throws -> ConfigurationComponent {
        let kind = String(segment[..<colon])
        guard !kind.isEmpty, kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fail("a component kind is letters, digits, '-' and '_'", offset)
        }
        if colon + 1 == segment.count {
            // `kind:` alone: a component with neither name nor arguments.
            return ConfigurationComponent(
                kind: kind,
                name: nil,
                arguments: [],
                position: offset + 1,
                namePosition: offset + colon + 2
            )
        }
        var name: String?
        var arguments: [Argument] = []
        var itemStart = colon + 1
        var namePosition = offset + colon + 1
        var first = true
        while itemStart <= segment.count {
            var itemEnd = itemStart
            while itemEnd < segment.count && segment[itemEnd] != "," { itemEnd += 1 }
            let item = Array(segment[itemStart..<itemEnd])
            if item.isEmpty {
                throw fail(first ? "\(kind): nothing after the ':'" : "\(kind): an empty item", offset + itemStart)
            }
            if item.contains("=") {
                arguments.append(try argument(item, offset: offset + itemStart, fail: fail))
            } else if first {
                name = try decode(item, offset: offset + itemStart, fail: fail)
                namePosition = offset + itemStart + 1
            } else {
                throw fail("\(kind): expected key=value", offset + itemStart)
            }
            first = false
            itemStart = itemEnd + 1
        }
        return ConfigurationComponent(
            kind: kind,
            name: name,
            arguments: arguments,
            position: offset + 1,
            namePosition: namePosition
        )
    }

    private static func argument(
        _ item: [Character],
        offset: Int,
        fail: (String, Int) -> SessionError
    ) throws -> Argument {
        let equals = item.firstIndex(of: "=")!
        let key = String(item[..<equals])
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fail("an argument key is letters, digits, '-' and '_'", offset)
        }
        let value = try decode(Array(item[(equals + 1)...]), offset: offset + equals + 1, fail: fail)
        guard !value.isEmpty else { throw fail("'\(key)' has no value", offset) }
        return Argument(key: key, value: value, position: offset + 1)
    }

    /// Decodes `%XX` escapes.
    private static func decode(_ text: [Character], offset: Int, fail: (String, Int) -> SessionError) throws -> String {
        var bytes: [UInt8] = []
        var index = 0
        while index < text.count {
            if text[index] == "%" {
                guard index + 2 < text.count, let byte = UInt8(String(text[(index + 1)...(index + 2)]), radix: 16)
                else {
                    throw fail("'%' must be followed by two hex digits", offset + index)
                }
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(contentsOf: String(text[index]).utf8)
                index += 1
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw fail("the escapes do not spell valid UTF-8", offset)
        }
        return decoded
    }
}
