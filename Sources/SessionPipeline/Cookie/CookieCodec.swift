/// Turns a session into cookies and back: the same serializer, compression and encryption (or
/// signing) layers as a store, with the client's cookie jar as the "driver".
///
/// **Writing.** The session value is serialized, compressed when configured, then sealed once —
/// with the cookie's *name* as the envelope's context and the session's expiry in the envelope —
/// and written as base64url text. When the text fits in one cookie it is the cookie's value. When
/// it does not, the text is split into numbered chunks: the first cookie's value is
/// `COUNT.PART0` and the others are `NAME_1`, `NAME_2`, … Because the session is sealed before it
/// is split, chunks of different sessions cannot be mixed: the result would not authenticate.
///
/// **Budgets.** Every `Set-Cookie` — name, value and attributes — stays within
/// ``Configuration/maximumCookieBytes`` (4096, what browsers keep); a session needs at most
/// ``Configuration/maximumChunks`` cookies; and its cookies together must fit
/// ``Configuration/maximumHeaderBytes`` of the request's `Cookie` header (16 KiB by default:
/// proxies refuse long header lines — nginx's default is 8 KiB per line, so raise
/// `large_client_header_buffers` or lower this). A session beyond these fails with
/// ``SessionError/Code/tooLarge``; the Hummingbird middleware's hybrid mode then moves it to a
/// server store.
///
/// **Reading.** The chunks are reassembled, the text decoded, the envelope opened with the cookie's
/// name as context (an envelope sealed for another cookie does not open), and the frame
/// decompressed and deserialized by its tags. An unsealed value is never accepted. Cookies larger
/// than the header budget are refused before any decoding.
///
/// ```swift
/// let codec = try CookieCodec(
///     serializer: .binary,
///     compression: Compression(.zstd()),
///     protection: .encrypted(Encryption(keys: keys))
/// )
/// let cookies = try codec.setCookies(for: session.value, expires: now + .seconds(1800), now: now, previousChunks: 0)
/// ```
public struct CookieCodec: Sendable {
    /// How the session is protected.
    public enum Protection: Sendable {
        /// Sealed: secret and tamper-proof (XChaCha20-Poly1305).
        case encrypted(Encryption)
        /// Signed: readable by the client, tamper-proof (HMAC-SHA-512-256).
        case signed(Signing)
    }

    /// Names and limits.
    public struct Configuration: Sendable {
        /// The cookie's name (and the envelope's context). Default `session`.
        public var name: String
        /// The attributes every cookie is written with.
        public var attributes: CookieAttributes
        /// The longest `Set-Cookie` value, attributes included. Default 4096.
        public var maximumCookieBytes: Int
        /// The most cookies one session may take. Default 5.
        public var maximumChunks: Int
        /// The most bytes this session's cookies may take in the request's `Cookie` header.
        /// Default 16 KiB.
        public var maximumHeaderBytes: Int

        /// Creates a configuration.
        public init(
            name: String = "session",
            attributes: CookieAttributes = CookieAttributes(),
            maximumCookieBytes: Int = 4096,
            maximumChunks: Int = 5,
            maximumHeaderBytes: Int = 16 * 1024
        ) {
            self.name = name
            self.attributes = attributes
            self.maximumCookieBytes = maximumCookieBytes
            self.maximumChunks = maximumChunks
            self.maximumHeaderBytes = maximumHeaderBytes
        }

        /// Checks the name, the attributes and the limits.
        ///
        /// - Throws: ``SessionError/Code/invalidConfiguration`` for a name that is not a cookie
        ///   token, `__Host-` and `__Secure-` names with attributes their rules forbid,
        ///   `SameSite=None` without `Secure`, or limits too small for one chunk.
        public func validate() throws {
            func refuse(_ reason: String) -> SessionError {
                SessionError(.invalidConfiguration, reason, layer: "CookieCodec")
            }
            let separators = Set("()<>@,;:\\\"/[]?={} \t")
            guard !name.isEmpty,
                name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }),
                !name.contains(where: separators.contains)
            else {
                throw refuse("a cookie name is ASCII letters, digits and !#$%&'*+-.^_`|~")
            }
            if name.hasPrefix("__Host-") && (!attributes.secure || attributes.path != "/" || attributes.domain != nil) {
                throw refuse("a __Host- cookie must be Secure, have Path=/ and no Domain")
            }
            if name.hasPrefix("__Secure-") && !attributes.secure {
                throw refuse("a __Secure- cookie must be Secure")
            }
            if attributes.sameSite == CookieAttributes.SameSite.none && !attributes.secure {
                throw refuse("SameSite=None requires Secure")
            }
            guard maximumChunks >= 1, maximumChunks <= 99, maximumCookieBytes >= 256, maximumHeaderBytes >= 256 else {
                throw refuse("cookie limits must allow 1 to 99 chunks of at least 256 bytes")
            }
            func isAttributeText(_ text: String, allowingSpace: Bool) -> Bool {
                !text.isEmpty
                    && !text.utf8.contains {
                        $0 < 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ";")
                            || (!allowingSpace && $0 == UInt8(ascii: " "))
                    }
            }
            guard isAttributeText(attributes.path, allowingSpace: true) else {
                throw refuse("a cookie path is ASCII without ';' or control characters")
            }
            if let domain = attributes.domain, !isAttributeText(domain, allowingSpace: false) {
                throw refuse("a cookie domain is a host name")
            }
        }
    }

    /// The names and limits.
    public let configuration: Configuration
    /// The format sessions are written in.
    public let serializer: any SessionSerializer
    private let readersByTag: [(any SessionSerializer)?]
    /// The serializer for new cookies as a ``SplicingSerializer``, when it is one, behind one
    /// reference (see ``Shared``).
    package let splicingReader: Shared<any SplicingSerializer>?
    /// The compression applied before sealing, if any.
    public let compression: Compression?
    /// Encryption or signing.
    public let protection: Protection
    /// Decompresses whatever codec a cookie was written with, within the same limit.
    private let decompressor: Compression
    /// The configured attributes, rendered but for `Max-Age` and `Expires`.
    private let attributeTemplate: CookieAttributes.Template

    /// Creates a codec.
    ///
    /// - Parameters:
    ///   - serializer: The format for new cookies.
    ///   - readers: Further formats to read.
    ///   - compression: Compression before sealing, or `nil`.
    ///   - protection: Encryption or signing (a cookie is never accepted unprotected).
    ///   - configuration: Name, attributes, limits.
    /// - Throws: ``SessionError/Code/invalidConfiguration`` for a name that is not a cookie token,
    ///   `__Host-` and `__Secure-` names with attributes their rules forbid, `SameSite=None`
    ///   without `Secure`, or limits too small for one chunk.
    public init(
        serializer: some SessionSerializer,
        reading readers: [any SessionSerializer] = [],
        compression: Compression? = nil,
        protection: Protection,
        configuration: Configuration = Configuration()
    ) throws {
        try configuration.validate()
        var table = [(any SessionSerializer)?](repeating: nil, count: 256)
        for reader in [serializer] + readers {
            table[Int(reader.tag)] = table[Int(reader.tag)] ?? reader
        }
        self.configuration = configuration
        self.attributeTemplate = CookieAttributes.Template(configuration.attributes)
        self.serializer = serializer
        self.readersByTag = table
        self.splicingReader = (serializer as? any SplicingSerializer).map(Shared.init)
        self.compression = compression
        self.protection = protection
        self.decompressor = Compression(
            .zstd(),
            maximumDecompressedSize: compression?.maximumDecompressedSize ?? Compression.defaultMaximumDecompressedSize
        )
    }

    // MARK: Sealing

    /// The sealed text of `value`: serialized, compressed, sealed or signed with the cookie's name
    /// as context, in base64url.
    public func seal(_ value: SessionValue, expires: UnixTime?) throws -> String {
        try seal(payload: try serializer.serialize(value), expires: expires)
    }

    /// The sealed text of a payload a serializer wrote (tag byte first): compressed, sealed or
    /// signed with the cookie's name as context, in base64url.
    public func seal(payload: [UInt8], expires: UnixTime?) throws -> String {
        withEnvelope(payload: payload, expires: expires) { Base64.urlEncodedString($0) }
    }

    /// Calls `body` with the envelope of a payload (compressed, then sealed or signed with the
    /// cookie's name as context), before base64url. An encrypted envelope is sealed into a
    /// temporary buffer: it is never kept.
    private func withEnvelope<Result>(
        payload: [UInt8],
        expires: UnixTime?,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        var bytes = payload
        if let compression {
            bytes = compression.compress(bytes)
        }
        switch protection {
        case .encrypted(let encryption):
            return bytes.withUnsafeBytes { plaintext in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Encryption.overhead + plaintext.count) {
                    let envelope = UnsafeMutableRawBufferPointer($0)
                    encryption.seal(plaintext, context: configuration.name, expires: expires, into: envelope)
                    return body(UnsafeRawBufferPointer(envelope))
                }
            }
        case .signed(let signing):
            return signing.sign(bytes, context: configuration.name, expires: expires).withUnsafeBytes(body)
        }
    }

    /// What a cookie held.
    public struct Opened: Sendable {
        /// The session value.
        public var value: SessionValue
        /// The expiry sealed into the cookie.
        public var expires: UnixTime?
        /// Whether it was sealed under an older key: the next response should re-seal it.
        public var needsReseal: Bool
    }

    /// Opens sealed text.
    ///
    /// - Throws: ``SessionError/Code/malformed`` for text that is not base64url or not a frame,
    ///   ``SessionError/Code/authenticationFailed``, ``SessionError/Code/unknownKeyID``,
    ///   ``SessionError/Code/expired``, or a serializer's or decompressor's error.
    public func open(_ text: some StringProtocol, now: UnixTime) throws -> Opened {
        try open(utf8: text.utf8, now: now)
    }

    /// Opens sealed text given as its UTF-8 bytes, as ``open(_:now:)`` does.
    func open(utf8 text: some Collection<UInt8>, now: UnixTime) throws -> Opened {
        let opened = try openPayload(utf8: text, now: now)
        return Opened(value: try deserialize(opened.payload), expires: opened.expires, needsReseal: opened.needsReseal)
    }

    /// Reads a payload with the configured serializer its tag names.
    ///
    /// - Throws: ``SessionError/Code/unknownFormat`` for a tag no configured serializer has, or
    ///   the serializer's error.
    public func deserialize(_ payload: [UInt8]) throws -> SessionValue {
        guard let tag = payload.first, let reader = readersByTag[Int(tag)] else {
            throw SessionError(.unknownFormat, "the cookie's payload is in no configured format", layer: "CookieCodec")
        }
        return try reader.deserialize(payload)
    }

    /// What a cookie held, before deserializing.
    public struct OpenedPayload: Sendable {
        /// The payload, its serializer's tag byte first.
        public var payload: [UInt8]
        /// The expiry sealed into the cookie.
        public var expires: UnixTime?
        /// Whether it was sealed under an older key: the next response should re-seal it.
        public var needsReseal: Bool
    }

    /// Opens sealed text down to the serialized payload.
    ///
    /// - Throws: as ``open(_:now:)``, except for the serializer's errors.
    public func openPayload(_ text: some StringProtocol, now: UnixTime) throws -> OpenedPayload {
        try openPayload(utf8: text.utf8, now: now)
    }

    /// Opens sealed text given as its UTF-8 bytes, as ``openPayload(_:now:)`` does.
    func openPayload(utf8 text: some Collection<UInt8>, now: UnixTime) throws -> OpenedPayload {
        // Decoded into a temporary buffer and opened from there: the envelope is never kept.
        let opened = try Base64.withDecoded(text, url: true) { bytes in
            switch protection {
            case .encrypted(let encryption):
                let opened = try encryption.open(bytes, context: configuration.name, now: now)
                return (opened.plaintext, opened.expires, opened.needsReseal)
            case .signed(let signing):
                let verified = try signing.verify(Array(bytes), context: configuration.name, now: now)
                return (verified.payload, verified.expires, verified.needsReseal)
            }
        }
        guard let (plaintext, expires, needsReseal) = opened else {
            throw SessionError(.malformed, "the cookie is not base64url text", layer: "CookieCodec")
        }
        return OpenedPayload(
            payload: try decompressor.decompress(plaintext), expires: expires, needsReseal: needsReseal)
    }

    // MARK: Cookies

    /// The name of chunk `index` (0 is the cookie's own name).
    public func chunkName(_ index: Int) -> String {
        index == 0 ? configuration.name : "\(configuration.name)_\(index)"
    }

    /// How many seconds a cookie expiring at `expires` lives from `now` (`nil`: a browser-session
    /// cookie).
    static func maxAge(_ expires: UnixTime?, now: UnixTime) -> Int? {
        expires.map { Int(clamping: max(0, $0.seconds - now.seconds)) }
    }

    /// The `Set-Cookie` headers for `value`: one cookie, or chunks, plus deletions of chunks a
    /// larger earlier session left behind (`previousChunks` is how many the request carried).
    ///
    /// - Throws: ``SessionError/Code/tooLarge`` when the session needs more cookies or header bytes
    ///   than configured.
    public func setCookies(
        for value: SessionValue,
        expires: UnixTime?,
        now: UnixTime,
        previousChunks: Int
    ) throws -> [SetCookie] {
        try setCookies(
            forPayload: try serializer.serialize(value), expires: expires, now: now, previousChunks: previousChunks)
    }

    /// The `Set-Cookie` headers for a payload a serializer wrote (tag byte first), as
    /// ``setCookies(for:expires:now:previousChunks:)`` makes them for a value.
    ///
    /// - Throws: ``SessionError/Code/tooLarge`` as that method does.
    public func setCookies(
        forPayload payload: [UInt8],
        expires: UnixTime?,
        now: UnixTime,
        previousChunks: Int
    ) throws -> [SetCookie] {
        let maxAge = Self.maxAge(expires, now: now)
        let rendered = attributeTemplate.rendered(maxAge: maxAge, expires: expires)
        let attributeLength = rendered.count
        func room(_ index: Int) -> Int {
            configuration.maximumCookieBytes - chunkName(index).utf8.count - 1 - attributeLength
        }
        // One cookie, the common case: the envelope's base64url text is written straight into its
        // header value. Otherwise the text, to be cut into chunks.
        enum Sealed {
            case cookie(SetCookie)
            case text(String)
        }
        let sealed: Sealed = withEnvelope(payload: payload, expires: expires) { envelope in
            let length = Base64.encodedLength(envelope.count, padded: false)
            guard length <= room(0) else { return .text(Base64.urlEncodedString(envelope)) }
            return .cookie(
                SetCookie(
                    name: configuration.name, valueLength: length, attributes: rendered
                ) { Base64.urlEncode(envelope, into: $0) })
        }
        var cookies: [SetCookie] = []
        switch sealed {
        case .cookie(let cookie):
            cookies = [cookie]
        case .text(let text):
            // The first cookie also holds "COUNT." (at most "99.").
            var parts: [Substring] = []
            var rest = text[...]
            var index = 0
            while !rest.isEmpty {
                let capacity = room(index) - (index == 0 ? 3 : 0)
                guard capacity > 0, index < configuration.maximumChunks else { break }
                // Offsets in UTF-8 bytes: the sealed text is ASCII, and a byte offset costs no
                // grapheme breaking.
                let cut =
                    rest.utf8.index(rest.startIndex, offsetBy: capacity, limitedBy: rest.endIndex) ?? rest.endIndex
                parts.append(rest[..<cut])
                rest = rest[cut...]
                index += 1
            }
            guard rest.isEmpty, parts.count >= 2 else {
                throw SessionError(
                    .tooLarge,
                    "the sealed session (\(text.utf8.count) bytes) needs more than \(configuration.maximumChunks) cookies",
                    layer: "CookieCodec"
                )
            }
            for (index, part) in parts.enumerated() {
                let value = index == 0 ? "\(parts.count).\(part)" : String(part)
                cookies.append(
                    SetCookie(name: chunkName(index), value: value, attributes: rendered))
            }
        }
        let headerBytes = cookies.reduce(0) { $0 + $1.name.utf8.count + 1 + $1.valueLength + 2 }
        guard headerBytes <= configuration.maximumHeaderBytes else {
            throw SessionError(
                .tooLarge,
                "the session's cookies take \(headerBytes) bytes of the Cookie header; the limit is \(configuration.maximumHeaderBytes)",
                layer: "CookieCodec"
            )
        }
        if previousChunks > cookies.count {
            cookies += (cookies.count..<previousChunks).map {
                SetCookie.deletion(of: chunkName($0), attributes: configuration.attributes)
            }
        }
        return cookies
    }

    /// `Set-Cookie` headers deleting the session's cookie and its `previousChunks - 1` chunks.
    public func deletions(previousChunks: Int) -> [SetCookie] {
        (0..<max(1, previousChunks)).map { SetCookie.deletion(of: chunkName($0), attributes: configuration.attributes) }
    }

    /// The sealed text and the number of cookies it came in, from a request's cookies; `nil` when
    /// the request carries none of this session's cookies.
    ///
    /// - Throws: ``SessionError/Code/malformed`` for a chunk count out of range or a missing
    ///   chunk, ``SessionError/Code/tooLarge`` when the cookies exceed the header budget.
    public func sealedText(in cookies: [(name: String, value: String)]) throws -> (text: String, chunks: Int)? {
        try RequestCookies.withCookies(cookies) { cookies in
            try withSealedText(in: cookies) { (String(decoding: $0, as: UTF8.self), $1) }
        }
    }

    /// Calls `body` with the sealed text, as UTF-8 bytes, and the number of cookies it came in, as
    /// ``sealedText(in:)`` finds them; `nil` when the request carries none of
    /// this session's cookies. Text that came in one cookie is read where it lies, in the request's
    /// header; chunks are joined into one buffer.
    func withSealedText<Result>(
        in cookies: RequestCookies,
        _ body: (_ text: UnsafeBufferPointer<UInt8>, _ chunks: Int) throws -> Result
    ) throws -> Result? {
        guard let first = cookies.value(named: configuration.name) else { return nil }
        // The sealed text is base64url, so a "." can only end the chunk count ("2." to "99."):
        // only the first three bytes are looked at.
        guard let dot = first.prefix(3).firstIndex(of: UInt8(ascii: ".")) else {
            guard first.count <= configuration.maximumHeaderBytes else {
                throw SessionError(
                    .tooLarge, "the session cookie is larger than the header budget", layer: "CookieCodec")
            }
            return try body(first, 1)
        }
        guard let count = Self.chunkNumber(first[..<dot]), count >= 2, count <= configuration.maximumChunks else {
            throw SessionError(.malformed, "the session cookie's chunk count is out of range", layer: "CookieCodec")
        }
        var text = Array(first[(dot + 1)...])
        for index in 1..<count {
            guard let part = cookies.value(named: chunkName(index)) else {
                throw SessionError(
                    .malformed, "chunk \(index) of \(count) of the session cookie is missing", layer: "CookieCodec")
            }
            guard text.count + part.count <= configuration.maximumHeaderBytes else {
                throw SessionError(
                    .tooLarge, "the session cookies are larger than the header budget", layer: "CookieCodec")
            }
            text += part
        }
        return try text.withUnsafeBufferPointer { try body($0, count) }
    }

    /// How many of this session's cookies (`NAME`, `NAME_1`, …) a request carries, including
    /// stale chunks, up to ``Configuration/maximumChunks``.
    public func presentChunks(in cookies: [(name: String, value: String)]) -> Int {
        RequestCookies.withCookies(cookies) { presentChunks(in: $0) }
    }

    /// How many of this session's cookies a request carries, as
    /// ``presentChunks(in:)-([(name:value:)])`` counts them.
    func presentChunks(in cookies: RequestCookies) -> Int {
        // One pass over the cookies' names, instead of formatting each possible chunk name.
        var highest = 0
        cookies.forEachCookie { name, _ in
            if let index = chunkIndex(ofCookieNamed: name), index >= highest {
                highest = index + 1
            }
            return true
        }
        return highest
    }

    /// The chunk `name` names (0 for the session cookie itself, 1 for `NAME_1`, …), when it is
    /// one of this session's below ``Configuration/maximumChunks``; the inverse of ``chunkName(_:)``.
    /// The name is UTF-8 bytes.
    func chunkIndex(ofCookieNamed name: UnsafeBufferPointer<UInt8>) -> Int? {
        var base = configuration.name
        return base.withUTF8 { base -> Int? in
            guard name.count >= base.count, name.prefix(base.count).elementsEqual(base) else {
                return nil
            }
            if name.count == base.count { return 0 }
            // "_" and the chunk's number, as chunkName writes it.
            guard name[base.count] == UInt8(ascii: "_"), let index = Self.chunkNumber(name[(base.count + 1)...]),
                index < configuration.maximumChunks
            else { return nil }
            return index
        }
    }

    /// A chunk number or count as the codec writes them, in a cookie's name or before the "." of
    /// the first chunk: one or two decimal digits without a leading zero; `nil` for anything else.
    private static func chunkNumber(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 2 else { return nil }
        var number = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            number = number * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return number
    }

    /// Reads the session from a request's cookies; `nil` when there is none.
    public func read(_ cookies: [(name: String, value: String)], now: UnixTime) throws -> Opened? {
        try RequestCookies.withCookies(cookies) { try read($0, now: now) }
    }

    /// Reads the session from a request's `Cookie` header values (one for HTTP/1.1; HTTP/2 may
    /// send several); `nil` when there is none. The cookies are read in place, with no string
    /// made for any cookie: a session in one cookie of one header line is decoded straight out of
    /// it (several lines are joined first, as RFC 9113 joins them, and chunks into one buffer).
    public func read(cookieHeaders: [String], now: UnixTime) throws -> Opened? {
        try RequestCookies.withCookies(inHeaders: cookieHeaders) { try read($0, now: now) }
    }

    /// Reads the session from cookies read in place.
    func read(_ cookies: RequestCookies, now: UnixTime) throws -> Opened? {
        try withSealedText(in: cookies) { text, _ in try open(utf8: text, now: now) }
    }

    /// Reads the session's payload from a request's cookies, without deserializing it; `nil` when
    /// there is none.
    public func readPayload(_ cookies: [(name: String, value: String)], now: UnixTime) throws -> OpenedPayload? {
        try RequestCookies.withCookies(cookies) { try readPayload($0, now: now) }
    }

    /// Reads the session's payload from a request's `Cookie` header values, in place as
    /// ``read(cookieHeaders:now:)`` does, without deserializing it; `nil` when there is none.
    public func readPayload(cookieHeaders: [String], now: UnixTime) throws -> OpenedPayload? {
        try RequestCookies.withCookies(inHeaders: cookieHeaders) { try readPayload($0, now: now) }
    }

    /// Reads the session's payload from cookies read in place.
    func readPayload(_ cookies: RequestCookies, now: UnixTime) throws -> OpenedPayload? {
        try withSealedText(in: cookies) { text, _ in try openPayload(utf8: text, now: now) }
    }

    /// The serializer for new cookies as a ``SplicingSerializer``, when it is one.
    public var splicingSerializer: (any SplicingSerializer)? { splicingReader?.value }
}
