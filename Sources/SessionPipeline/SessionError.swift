/// The one error type every part of the library throws.
///
/// A missing or expired session is never an error (it reads as `nil`). Everything else that can
/// go wrong — a corrupt file, a tampered envelope, a key the ring does not hold, a value a format
/// cannot represent, an I/O fault — is a `SessionError` that says which layer raised it, what
/// kind of failure it was (``code``), a human-readable ``message``, and the error underneath, if
/// any.
///
/// Compare ``code`` rather than messages: codes are stable, messages may be reworded.
///
/// ```swift
/// do {
///     let value = try await store.get(key)
/// } catch let error as SessionError where error.code == .authenticationFailed {
///     // a tampered or foreign envelope: treat as "no session"
/// }
/// ```
///
/// Messages never contain key material, plaintext, or session identifiers.
public struct SessionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default` case.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidKey
            case invalidValue
            case invalidConfiguration
            case unsupported
            case io
            case corrupt
            case malformed
            case unknownFormat
            case authenticationFailed
            case unknownKeyID
            case expired
            case tooLarge
            case typeMismatch
            case conflict
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A session key that is empty, too long, or contains a forbidden character or sequence.
        public static let invalidKey = Code(.invalidKey)
        /// A value that the configured format or layer cannot represent (refused at write time).
        public static let invalidValue = Code(.invalidValue)
        /// A layer, driver or pipeline configured with settings that cannot work.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// An operation the store does not offer (for example compare-and-swap on a driver that
        /// announces no such capability).
        public static let unsupported = Code(.unsupported)
        /// The operating system refused an I/O operation (permissions, full disk, missing device).
        public static let io = Code(.io)
        /// Stored data failed an integrity check (checksum, length, or an unexpected key).
        public static let corrupt = Code(.corrupt)
        /// Bytes that do not follow the format they claim (truncated, wrong lengths, bad syntax).
        public static let malformed = Code(.malformed)
        /// A frame whose tag byte no configured reader understands.
        public static let unknownFormat = Code(.unknownFormat)
        /// A sealed or signed frame whose authentication tag does not verify.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// A sealed frame naming a key id that the key ring does not hold.
        public static let unknownKeyID = Code(.unknownKeyID)
        /// A sealed frame whose embedded expiry has passed.
        public static let expired = Code(.expired)
        /// A value, frame or input larger than a configured limit.
        public static let tooLarge = Code(.tooLarge)
        /// A stored value read back as a type it does not have.
        public static let typeMismatch = Code(.typeMismatch)
        /// A conditional write lost a race with another writer.
        public static let conflict = Code(.conflict)

        /// The code's name, for example `authenticationFailed`.
        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// A human-readable explanation. Never contains secrets or session identifiers.
    public let message: String
    /// The layer or driver that raised the error, for example `"FileDriver"` or `"JSON"`.
    public let layer: String
    /// The error underneath, when this one wraps another.
    public let underlying: (any Error)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What happened, without secrets or session identifiers.
    ///   - layer: The name of the layer or driver raising it.
    ///   - underlying: The error underneath, if any.
    public init(_ code: Code, _ message: String, layer: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.layer = layer
        self.underlying = underlying
    }

    /// `layer: code: message`, followed by the underlying error when there is one.
    public var description: String {
        var text = "\(layer): \(code): \(message)"
        if let underlying {
            text += " (\(underlying))"
        }
        return text
    }
}
