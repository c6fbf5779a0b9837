/// A value behind a class reference.
///
/// For the values a request passes around that hold existentials (a codec, a store, a splicing
/// serializer): such types are address-only, so copying one — or binding an optional one with
/// `if let` — goes through value-witness calls that retain each of its parts, and a type that
/// holds one becomes address-only too. Behind a reference, a copy is one retain, a test for `nil`
/// reads one word, and the value is used where it lies.
package final class Shared<Value: Sendable>: Sendable {
    /// The value.
    package let value: Value

    /// Wraps `value`.
    package init(_ value: Value) {
        self.value = value
    }
}
