#if Hummingbird
    import Dispatch
    import Foundation
    import Serializers
    import SessionPipeline

    /// A plain HTTP/1.1 client over a socket, one connection per request: the test sees every
    /// header exactly as the server sent it (each `Set-Cookie` on its own), and the server sees
    /// exactly the `Cookie` header the test chose. Blocking calls run on Dispatch threads, never on
    /// the threads the server's tasks need.
    enum HTTPClient {
        struct Response: Sendable {
            var status: Int
            var headers: [(name: String, value: String)]
            var body: String

            func values(_ name: String) -> [String] {
                headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
            }

            var setCookies: [String] { values("Set-Cookie") }

            /// The body as JSON, read by the project's own value model.
            func json() throws -> SessionDictionary {
                guard let dictionary = SessionDictionary(try jsonValue(body)) else {
                    throw SessionError(.malformed, "the body is not a JSON object: \(body)", layer: "tests")
                }
                return dictionary
            }
        }

        static func send(
            _ method: String,
            _ path: String,
            port: Int,
            cookie: String? = nil,
            timeout: Int = 30
        ) async throws -> Response {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(
                        with: Result { try sendBlocking(method, path, port: port, cookie: cookie, timeout: timeout) })
                }
            }
        }

        private static func sendBlocking(
            _ method: String,
            _ path: String,
            port: Int,
            cookie: String?,
            timeout: Int
        ) throws -> Response {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw failure("socket") }
            defer { close(fd) }
            var time = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw failure("connect to port \(port)") }
            var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            if let cookie, !cookie.isEmpty { request += "Cookie: \(cookie)\r\n" }
            if method == "POST" { request += "Content-Length: 0\r\n" }
            request += "\r\n"
            let bytes = Array(request.utf8)
            var sent = 0
            while sent < bytes.count {
                let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written > 0 else { throw failure("write") }
                sent += written
            }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0 else { throw failure("read") }
                received += buffer[0..<count]
            }
            return try parse(received)
        }

        private static func parse(_ bytes: [UInt8]) throws -> Response {
            let separator: [UInt8] = Array("\r\n\r\n".utf8)
            guard let end = bytes.firstRange(of: separator) else {
                throw SessionError(.malformed, "no end of headers in \(bytes.count) bytes", layer: "tests")
            }
            let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
                throw SessionError(.malformed, "bad status line", layer: "tests")
            }
            let headers = lines.compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (
                    String(line[..<colon]),
                    String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                )
            }
            var body = Array(bytes[end.upperBound...])
            if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.contains("chunked") })
            {
                body = try dechunk(body)
            }
            return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
        }

        private static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
            var output: [UInt8] = []
            var rest = bytes[...]
            while let lineEnd = rest.firstRange(of: Array("\r\n".utf8)) {
                let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else { break }
                if size == 0 { break }
                let start = lineEnd.upperBound
                output += rest[start..<start + size]
                rest = rest[(start + size + 2)...]
            }
            return output
        }

        private static func failure(_ what: String) -> SessionError {
            SessionError(.io, "\(what) failed: errno \(errno)", layer: "tests")
        }
    }

    /// A browser's cookie jar, for one host: keeps what `Set-Cookie` sets, drops what it deletes.
    final class CookieJar: @unchecked Sendable {
        private let lock = NSLock()
        private var cookies: [(name: String, value: String)] = []

        init() {}

        var header: String {
            lock.withLock { cookies.map { "\($0.name)=\($0.value)" }.joined(separator: "; ") }
        }

        var names: [String] { lock.withLock { cookies.map(\.name) } }

        func value(_ name: String) -> String? {
            lock.withLock { cookies.first { $0.name == name }?.value }
        }

        func set(_ name: String, _ value: String) {
            lock.withLock {
                cookies.removeAll { $0.name == name }
                cookies.append((name, value))
            }
        }

        func copy() -> CookieJar {
            let jar = CookieJar()
            for name in names { jar.set(name, value(name)!) }
            return jar
        }

        func apply(_ response: HTTPClient.Response) {
            for header in response.setCookies {
                let fields = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let pair = fields.first, let equals = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<equals])
                let value = String(pair[pair.index(after: equals)...])
                let deleted = fields.contains { $0.lowercased() == "max-age=0" } || value.isEmpty
                lock.withLock {
                    cookies.removeAll { $0.name == name }
                    if !deleted { cookies.append((name, value)) }
                }
            }
        }

        /// Sends a request with the jar's cookies and keeps the response's.
        @discardableResult
        func send(_ method: String, _ path: String, port: Int) async throws -> HTTPClient.Response {
            let response = try await HTTPClient.send(method, path, port: port, cookie: header)
            apply(response)
            return response
        }
    }

    /// Reads JSON text into a session value with the project's JSON serializer.
    func jsonValue(_ text: String) throws -> SessionValue {
        let serializer = JSONSerializer()
        return try serializer.deserialize([serializer.tag] + Array(text.utf8))
    }
#endif
