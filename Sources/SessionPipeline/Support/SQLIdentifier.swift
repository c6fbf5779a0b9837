/// Table names the database drivers interpolate into SQL: checked once, by one rule.
package enum SQLIdentifier {
    /// Refuses anything but ASCII letters, digits and `_`, not starting with a digit, at most
    /// `maximumLength` bytes.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` naming `database` and `layer`.
    package static func check(_ name: String, maximumLength: Int, database: String, layer: String) throws {
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        func isIdentifierByte(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || digits.contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
        }
        guard let first = name.utf8.first, !digits.contains(first), name.utf8.count <= maximumLength,
            name.utf8.allSatisfy(isIdentifierByte)
        else {
            throw SessionError(
                .invalidConfiguration, "a \(database) table name is ASCII letters, digits and _", layer: layer)
        }
    }
}
