#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The attributes session cookies are written with.
///
/// The defaults are the safe ones: `Path=/`, `Secure`, `HttpOnly`, `SameSite=Lax`, no `Domain`.
/// A name starting with `__Host-` must keep `Secure` and `Path=/` and have no `Domain`, and one
/// starting with `__Secure-` must keep `Secure`; ``CookieCodec`` refuses anything else.
///
/// ```swift
/// var attributes = CookieAttributes()
/// attributes.sameSite = .strict
/// attributes.domain = "example.com"
/// ```
public struct CookieAttributes: Sendable, Hashable {
    /// The `SameSite` attribute.
    public enum SameSite: String, Sendable, Hashable {
        /// Sent on same-site requests and top-level navigations.
        case lax = "Lax"
        /// Sent on same-site requests only.
        case strict = "Strict"
        /// Sent on every request (requires `Secure`).
        case none = "None"
    }

    /// `Path`. Default `/`.
    public var path: String
    /// `Domain`, or `nil` (the default) for a host-only cookie.
    public var domain: String?
    /// `Secure`. Default `true`.
    public var secure: Bool
    /// `HttpOnly`. Default `true`.
    public var httpOnly: Bool
    /// `SameSite`. Default `Lax`.
    public var sameSite: SameSite?
    /// Whether to send an `Expires` date besides `Max-Age` (for clients that ignore `Max-Age`).
    /// Default `false`.
    public var includeExpires: Bool

    /// Creates attributes; every argument has the safe default.
    public init(
        path: String = "/",
        domain: String? = nil,
        secure: Bool = true,
        httpOnly: Bool = true,
        sameSite: SameSite? = .lax,
        includeExpires: Bool = false
    ) {
        self.path = path
        self.domain = domain
        self.secure = secure
        self.httpOnly = httpOnly
        self.sameSite = sameSite
        self.includeExpires = includeExpires
    }

    /// The attributes as they follow `name=value` in a `Set-Cookie` header.
    func rendered(maxAge: Int?, expires: UnixTime?) -> Rendered {
        Template(self).rendered(maxAge: maxAge, expires: expires)
    }

    /// The attributes rendered once: all but `Max-Age` and `Expires`, the only ones that change
    /// from one response to the next, are text made in advance (a codec keeps one).
    struct Template: Sendable {
        /// `Path` and `Domain`, which come before `Max-Age`.
        fileprivate let head: [UInt8]
        /// `Secure`, `HttpOnly` and `SameSite`, which come after `Expires`.
        fileprivate let tail: [UInt8]
        private let includeExpires: Bool

        init(_ attributes: CookieAttributes) {
            var head = "; Path=" + attributes.path
            if let domain = attributes.domain { head += "; Domain=" + domain }
            var tail = ""
            if attributes.secure { tail += "; Secure" }
            if attributes.httpOnly { tail += "; HttpOnly" }
            if let sameSite = attributes.sameSite { tail += "; SameSite=" + sameSite.rawValue }
            (self.head, self.tail, self.includeExpires) = (
                Array(head.utf8), Array(tail.utf8), attributes.includeExpires
            )
        }

        /// The attributes with this `Max-Age` and (when the attributes include it) `Expires`.
        func rendered(maxAge: Int?, expires: UnixTime?) -> Rendered {
            Rendered(template: self, maxAge: maxAge, expires: includeExpires ? expires.map(HTTPDate.format) : nil)
        }
    }

    /// A response's attributes, written by each header value that carries them straight into its
    /// own text: no string is made for them (on the hot path that was a tenth of sealing a
    /// cookie).
    struct Rendered: Sendable {
        private let template: Template
        /// `Max-Age`, in seconds.
        let maxAge: Int?
        private let expires: String?
        /// The length of the text, in bytes.
        let count: Int

        fileprivate init(template: Template, maxAge: Int?, expires: String?) {
            self.template = template
            self.maxAge = maxAge
            self.expires = expires
            count =
                template.head.count + (maxAge.map { Self.maxAgePrefix.utf8.count + Self.decimalLength($0) } ?? 0)
                + (expires.map { Self.expiresPrefix.utf8.count + $0.utf8.count } ?? 0) + template.tail.count
        }

        private static let maxAgePrefix = "; Max-Age="
        private static let expiresPrefix = "; Expires="

        private static func decimalLength(_ value: Int) -> Int {
            var length = value < 0 ? 2 : 1
            var rest = value.magnitude
            while rest >= 10 {
                rest /= 10
                length += 1
            }
            return length
        }

        /// Writes the text into `output`, which holds exactly ``count`` bytes.
        func write(into output: UnsafeMutableBufferPointer<UInt8>) {
            precondition(output.count == count)
            var end = 0
            func append(_ bytes: UnsafeBufferPointer<UInt8>) {
                end += UnsafeMutableBufferPointer(rebasing: output[end...]).initialize(fromContentsOf: bytes)
            }
            func append(_ text: String) {
                var text = text
                text.withUTF8 { append($0) }
            }
            template.head.withUnsafeBufferPointer { append($0) }
            if let maxAge {
                append(Self.maxAgePrefix)
                if maxAge < 0 {
                    output[end] = UInt8(ascii: "-")
                    end += 1
                }
                let length = Self.decimalLength(maxAge) - (maxAge < 0 ? 1 : 0)
                var rest = maxAge.magnitude
                for position in (end..<(end + length)).reversed() {
                    output[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                end += length
            }
            if let expires {
                append(Self.expiresPrefix)
                append(expires)
            }
            template.tail.withUnsafeBufferPointer { append($0) }
        }
    }
}

/// One `Set-Cookie` header value.
public struct SetCookie: Sendable, Hashable, CustomStringConvertible {
    /// The cookie's name.
    public let name: String
    /// The cookie's value (read out of ``headerValue``, which is where it is kept).
    public var value: String {
        String(Substring(headerValue.utf8.dropFirst(name.utf8.count + 1).prefix(valueLength)))
    }
    /// `Max-Age` in seconds, or `nil` for a cookie that lives as long as the browser session.
    public let maxAge: Int?
    /// The header value: `name=value` and the attributes.
    ///
    /// - Warning: It holds the cookie's value — a session id or a sealed session. Do not log it.
    public let headerValue: String
    /// The length of the value in UTF-8 bytes.
    let valueLength: Int

    /// The name, the value's length and the attributes, without the value itself, so a cookie can
    /// be logged.
    public var description: String {
        let attributes = Substring(headerValue.utf8.dropFirst(name.utf8.count + 1 + valueLength))
        return name + "=<\(valueLength) bytes>" + attributes
    }

    /// Whether this header deletes the cookie rather than setting it.
    public var isDeletion: Bool { maxAge == 0 }

    init(name: String, value: String, attributes: CookieAttributes, maxAge: Int?, expires: UnixTime?) {
        self.init(name: name, value: value, attributes: attributes.rendered(maxAge: maxAge, expires: expires))
    }

    /// A cookie whose attributes, `Max-Age` included, are already rendered, by
    /// ``CookieAttributes/rendered(maxAge:expires:)`` (so that several chunks of one session render
    /// them once).
    init(name: String, value: String, attributes: CookieAttributes.Rendered) {
        self.init(name: name, valueLength: value.utf8.count, attributes: attributes) {
            output in
            var value = value
            value.withUTF8 { _ = output.initialize(fromContentsOf: $0) }
        }
    }

    /// A cookie whose value `writeValue` writes straight into the header value (exactly
    /// `valueLength` bytes of ASCII), which is written into one buffer of its final size: a sealed
    /// session's base64url text goes into the one string it ends up in, with no string of its own
    /// to make and copy first.
    init(
        name: String,
        valueLength: Int,
        attributes: CookieAttributes.Rendered,
        writeValue: (UnsafeMutableBufferPointer<UInt8>) -> Void
    ) {
        self.name = name
        self.valueLength = valueLength
        self.maxAge = attributes.maxAge
        var name = name
        self.headerValue = name.withUTF8 { name in
            String(unsafeUninitializedCapacity: name.count + 1 + valueLength + attributes.count) { header in
                var end = header.initialize(fromContentsOf: name)
                header[end] = UInt8(ascii: "=")
                end += 1
                writeValue(UnsafeMutableBufferPointer(rebasing: header[end..<(end + valueLength)]))
                end += valueLength
                attributes.write(into: UnsafeMutableBufferPointer(rebasing: header[end..<(end + attributes.count)]))
                return end + attributes.count
            }
        }
    }

    /// A `Set-Cookie` that deletes the cookie `name` (empty value, `Max-Age=0`, an `Expires` in
    /// 1970).
    static func deletion(of name: String, attributes: CookieAttributes) -> SetCookie {
        var attributes = attributes
        attributes.includeExpires = true
        return SetCookie(name: name, value: "", attributes: attributes, maxAge: 0, expires: 0)
    }
}

/// Reads a request's `Cookie` header.
public enum CookieHeader {
    /// The most cookies read from one request; the rest are ignored, so a header with thousands
    /// of cookies costs no more than this many.
    public static let maximumCookies = 256

    /// The `name=value` pairs of a `Cookie` header value, in order, at most ``maximumCookies``.
    /// Pairs without `=` are skipped; surrounding spaces are trimmed; a value in double quotes is
    /// unquoted. Nothing is decoded further.
    public static func parse(_ header: some StringProtocol) -> [(name: String, value: String)] {
        // One pass over the UTF-8 bytes: every delimiter is ASCII, so byte positions are always
        // character boundaries, and no grapheme breaking is paid on a header of a few kilobytes.
        header.utf8.withContiguousStorageIfAvailable(parse) ?? Array(header.utf8).withUnsafeBufferPointer(parse)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String)] {
        var cookies: [(name: String, value: String)] = []
        forEachPair(in: bytes, limit: maximumCookies) { name, value in
            cookies.append((string(bytes, name), string(bytes, value)))
            return true
        }
        return cookies
    }

    /// Calls `body` with the byte ranges of the name and value of each cookie in the `Cookie`
    /// header value `bytes`, in order, at most `limit` of them, as ``parse(_:)`` reads them, until
    /// it returns `false`.
    static func forEachPair(
        in bytes: UnsafeBufferPointer<UInt8>,
        limit: Int,
        _ body: (_ name: Range<Int>, _ value: Range<Int>) -> Bool
    ) {
        let count = bytes.count
        var position = 0
        var found = 0
        while position < count, found < limit {
            // The name is short: scan it byte by byte; the value (kilobytes for a sealed
            // session) is searched for its end with memchr.
            var end = position
            var equals = -1
            while end < count {
                let byte = bytes[end]
                if byte == UInt8(ascii: ";") { break }
                if byte == UInt8(ascii: "=") {
                    equals = end
                    let base = UnsafeRawPointer(bytes.baseAddress!)
                    end =
                        memchr(base + end, Int32(UInt8(ascii: ";")), count - end).map { base.distance(to: $0) } ?? count
                    break
                }
                end += 1
            }
            defer { position = end + 1 }
            guard equals >= 0 else { continue }
            let name = trimmed(bytes, position, equals)
            var value = trimmed(bytes, equals + 1, end)
            if value.count >= 2, bytes[value.lowerBound] == UInt8(ascii: "\""),
                bytes[value.upperBound - 1] == UInt8(ascii: "\"")
            {
                value = value.lowerBound + 1..<value.upperBound - 1
            }
            guard !name.isEmpty else { continue }
            found += 1
            guard body(name, value) else { return }
        }
    }

    /// The text of `range`, decoded as UTF-8 (invalid bytes replaced).
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        return String(decoding: slice, as: UTF8.self)
    }

    /// `start..<end` without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Range<Int> {
        var start = start
        var end = end
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return start..<end
    }
}

/// HTTP dates (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), formatted by hand: no
/// `DateFormatter`, no locale, no allocation beyond the result.
public enum HTTPDate {
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `time` as an IMF-fixdate.
    public static func format(_ time: UnixTime) -> String {
        let seconds = time.seconds
        var day = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            day -= 1
        }
        let (year, month, dayOfMonth) = SessionDate.civilDate(daysSince1970: day)
        let weekday = Int(((day % 7) + 7) % 7)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[weekday]), \(two(dayOfMonth)) \(months[Int(month) - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
