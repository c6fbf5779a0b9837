import Serializers

@testable import SessionPipeline

/// A cookie jar that plays a browser against a ``SessionManager``: each request sends the jar's
/// cookies, runs a handler on the request's session, and stores what the response set.
final class Browser: Sendable {
    let manager: SessionManager
    private let jar = Locked<[(name: String, value: String)]>([])
    /// Every `Set-Cookie` of the last response.
    private let lastResponse = Locked<[SetCookie]>([])

    init(_ manager: SessionManager) {
        self.manager = manager
    }

    var cookieHeader: String {
        jar.withLock { $0.map { $0.name + "=" + $0.value }.joined(separator: "; ") }
    }

    var cookies: [(name: String, value: String)] {
        jar.withLock { $0 }
    }

    var lastSetCookies: [SetCookie] {
        lastResponse.withLock { $0 }
    }

    func setCookie(_ name: String, _ value: String) {
        jar.withLock { jar in
            jar.removeAll { $0.name == name }
            jar.append((name, value))
        }
    }

    func clear() {
        jar.withLock { $0.removeAll() }
    }

    /// Runs `handler` as one request and applies the response's cookies to the jar.
    @discardableResult
    func request<R: Sendable>(
        _ handler: (RequestSession) async throws -> R
    ) async throws -> (result: R, session: RequestSession) {
        let session = RequestSession()
        let header = cookieHeader
        session.attach(to: manager, cookieHeaders: header.isEmpty ? [] : [header])
        let result = try await handler(session)
        let cookies = try await session.commit()
        apply(cookies)
        return (result, session)
    }

    func apply(_ cookies: [SetCookie]) {
        lastResponse.withLock { $0 = cookies }
        jar.withLock { jar in
            for cookie in cookies {
                jar.removeAll { $0.name == cookie.name }
                if !cookie.isDeletion { jar.append((cookie.name, cookie.value)) }
            }
        }
    }

    /// A request that increments `count` and returns the new value.
    func count() async throws -> Int {
        try await request { session in
            let count = (try await session.get(Int.self, "count") ?? 0) + 1
            try await session.set(count, for: "count")
            return count
        }.result
    }
}

enum WebFixtures {
    static let key1 = SecretKey.random()
    static let key2 = SecretKey.random()

    static func codec(
        keys: KeyRing = KeyRing(id: 1, key: key1),
        signed: Bool = false,
        configuration: CookieCodec.Configuration = CookieCodec.Configuration()
    ) throws -> CookieCodec {
        try CookieCodec(
            serializer: .binary,
            compression: Compression(.zstd()),
            protection: signed ? .signed(Signing(keys: keys)) : .encrypted(Encryption(keys: keys)),
            configuration: configuration
        )
    }

    static func store(_ clock: ManualClock) throws -> SessionStore {
        try SessionStore.pipeline().serialized(.binary).driver(MemoryDriver<[UInt8]>(clock: clock))
    }

    /// Random text that does not compress: `count` base64url characters.
    static func incompressible(_ count: Int, using generator: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<count).map { _ in alphabet[Int(generator.next() % 64)] })
    }
}
