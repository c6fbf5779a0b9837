/// A request's cookies, read in place out of the bytes they came in: a lookup is a pass over the
/// `Cookie` header's bytes (values are skipped with `memchr`), so a sealed session that came in one
/// cookie of one header line — kilobytes — is never copied out of it, no string is made for any
/// cookie, and the cookies a session never looks at cost nothing but that pass. (Several header
/// lines are joined into one string first, and a chunked session's parts into one buffer.)
///
/// The bytes are borrowed for the duration of ``withCookies(inHeaders:_:)`` or
/// ``withCookies(_:_:)``; the value must not outlive that call.
struct RequestCookies {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Where each cookie lies in `bytes`, for cookies given as pairs; `nil` when `bytes` is a
    /// `Cookie` header value, parsed on each pass as ``CookieHeader/parse(_:)`` parses it.
    private let pairs: [(name: Range<Int>, value: Range<Int>)]?

    /// Calls `body` with the cookies of a request's `Cookie` header values. Several values (HTTP/2
    /// may split the header) are read as one joined with `"; "`, as RFC 9113 has them joined.
    static func withCookies<Result>(
        inHeaders headers: [String],
        _ body: (RequestCookies) throws -> Result
    ) rethrows -> Result {
        var header = headers.count == 1 ? headers[0] : headers.joined(separator: "; ")
        return try header.withUTF8 { try body(RequestCookies(bytes: $0, pairs: nil)) }
    }

    /// Calls `body` with cookies already split into names and values: all of them, copied into
    /// one buffer (the limit of ``CookieHeader/maximumCookies`` is the parser's, applied when a
    /// header is parsed into pairs).
    static func withCookies<Result>(
        _ pairs: [(name: String, value: String)],
        _ body: (RequestCookies) throws -> Result
    ) rethrows -> Result {
        var bytes: [UInt8] = []
        var ranges: [(name: Range<Int>, value: Range<Int>)] = []
        for (name, value) in pairs {
            let nameStart = bytes.count
            bytes += name.utf8
            let valueStart = bytes.count
            bytes += value.utf8
            ranges.append((nameStart..<valueStart, valueStart..<bytes.count))
        }
        return try bytes.withUnsafeBufferPointer { try body(RequestCookies(bytes: $0, pairs: ranges)) }
    }

    /// Calls `body` with each cookie's name and value, in order, until it returns `false`.
    func forEachCookie(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Bool) {
        let bytes = bytes
        guard let pairs else {
            CookieHeader.forEachPair(in: bytes, limit: CookieHeader.maximumCookies) { name, value in
                body(UnsafeBufferPointer(rebasing: bytes[name]), UnsafeBufferPointer(rebasing: bytes[value]))
            }
            return
        }
        for index in pairs.indices {
            let (name, value) = pairs[index]
            guard body(UnsafeBufferPointer(rebasing: bytes[name]), UnsafeBufferPointer(rebasing: bytes[value])) else {
                return
            }
        }
    }

    /// The value of the first cookie named `name`, as UTF-8 bytes.
    func value(named name: String) -> UnsafeBufferPointer<UInt8>? {
        var name = name
        return name.withUTF8 { name in
            var found: UnsafeBufferPointer<UInt8>?
            forEachCookie { cookieName, value in
                guard cookieName.count == name.count, UTF8Text.compare(bytes: cookieName, name) == 0 else {
                    return true
                }
                found = value
                return false
            }
            return found
        }
    }
}
