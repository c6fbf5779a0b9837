internal import CZlib
internal import CZstd
import Synchronization

/// Idle native contexts kept for reuse: creating a zlib stream or a zstd context allocates tens of
/// kilobytes, more than compressing a session costs.
private final class ContextPool<Context: Sendable>: Sendable {
    private let idle = Locked<[Context]>([])
    private let make: @Sendable () -> Context
    private static var limit: Int { 16 }

    init(make: @escaping @Sendable () -> Context) {
        self.make = make
    }

    func with<R>(_ body: (Context) throws -> R) rethrows -> R {
        let context = idle.withLock { $0.popLast() } ?? make()
        defer {
            idle.withLock { idle in
                if idle.count < Self.limit { idle.append(context) }
            }
        }
        return try body(context)
    }
}

/// A zlib deflate stream. The `z_stream` lives on the heap because zlib keeps a pointer to it.
private struct DeflateStream: @unchecked Sendable {
    // @unchecked Sendable: the stream is used by one caller at a time, handed out by the pool.
    let stream: UnsafeMutablePointer<z_stream>
    let level: Int32
}

/// A zlib inflate stream.
private struct InflateStream: @unchecked Sendable {
    // @unchecked Sendable: as for DeflateStream.
    let stream: UnsafeMutablePointer<z_stream>
}

/// A zstd compression or decompression context.
private struct ZstdContext: @unchecked Sendable {
    // @unchecked Sendable: as for DeflateStream.
    let pointer: OpaquePointer
}

/// Why a native decompressor refused its input.
package enum DecompressionFailure: Error {
    /// The input is not a valid stream of the codec.
    case corrupt(String)
    /// The stream holds more than the declared length.
    case longerThanDeclared
    /// The stream holds less than the declared length.
    case shorterThanDeclared
}

/// The zlib and zstd calls the compression layer makes, with contexts reused across calls.
package enum Codecs {
    private static let deflatePools = Locked<[Int32: ContextPool<DeflateStream>]>([:])
    private static let inflatePool = ContextPool<InflateStream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit failed: \(status)")
        return InflateStream(stream: stream)
    }
    private static let compressPool = ContextPool<ZstdContext> { ZstdContext(pointer: ZSTD_createCCtx()!) }
    private static let decompressPool = ContextPool<ZstdContext> { ZstdContext(pointer: ZSTD_createDCtx()!) }

    private static func deflatePool(level: Int32) -> ContextPool<DeflateStream> {
        deflatePools.withLock { pools in
            if let pool = pools[level] { return pool }
            let pool = ContextPool<DeflateStream> {
                let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
                stream.initialize(to: z_stream())
                let status = deflateInit_(stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                precondition(status == Z_OK, "deflateInit failed: \(status)")
                return DeflateStream(stream: stream, level: level)
            }
            pools[level] = pool
            return pool
        }
    }

    // MARK: Deflate (zlib format, RFC 1950)

    /// Appends the zlib stream of `input` to `output`.
    package static func deflate(_ input: UnsafeRawBufferPointer, level: Int, into output: inout [UInt8]) {
        deflatePool(level: Int32(level)).with { context in
            let stream = context.stream
            deflateReset(stream)
            let bound = Int(deflateBound(stream, UInt(input.count)))
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: bound))
            let written = output.withUnsafeMutableBytes { buffer -> Int in
                stream.pointee.next_in = UnsafeMutablePointer(
                    mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self)
                )
                stream.pointee.avail_in = UInt32(input.count)
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + start
                stream.pointee.avail_out = UInt32(bound)
                let status = CZlib.deflate(stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate did not finish within deflateBound: \(status)")
                return bound - Int(stream.pointee.avail_out)
            }
            output.removeLast(bound - written)
        }
    }

    /// Inflates a zlib stream that must hold exactly `length` bytes; throws ``DecompressionFailure``.
    package static func inflate(_ input: UnsafeRawBufferPointer, length: Int) throws -> [UInt8] {
        try inflatePool.with { context -> [UInt8] in
            let stream = context.stream
            inflateReset(stream)
            var failure: DecompressionFailure?
            // One spare byte: a stream longer than declared fills it and is caught.
            let output = [UInt8](uninitializedCount: length + 1) { buffer, initialized in
                stream.pointee.next_in = UnsafeMutablePointer(
                    mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self)
                )
                stream.pointee.avail_in = UInt32(input.count)
                stream.pointee.next_out = buffer.baseAddress
                stream.pointee.avail_out = UInt32(length + 1)
                let status = CZlib.inflate(stream, Z_FINISH)
                let produced = length + 1 - Int(stream.pointee.avail_out)
                initialized = produced
                switch status {
                case Z_STREAM_END:
                    if produced > length {
                        failure = .longerThanDeclared
                    } else if produced < length {
                        failure = .shorterThanDeclared
                    } else if stream.pointee.avail_in != 0 {
                        failure = .corrupt("bytes after the end of the deflate stream")
                    }
                case Z_BUF_ERROR where stream.pointee.avail_out == 0:
                    failure = .longerThanDeclared
                case Z_BUF_ERROR:
                    failure = .corrupt("the deflate stream is truncated")
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                    failure = .corrupt(message)
                }
            }
            if let failure { throw failure }
            return output
        }
    }

    // MARK: Zstandard

    /// Appends the zstd frame of `input` to `output`.
    package static func zstdCompress(_ input: UnsafeRawBufferPointer, level: Int, into output: inout [UInt8]) {
        compressPool.with { context in
            let bound = ZSTD_compressBound(input.count)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: bound))
            // Level and a content checksum (xxHash), so that a corrupted frame is detected rather
            // than decompressed into different bytes.
            ZSTD_CCtx_setParameter(context.pointer, ZSTD_c_compressionLevel, Int32(level))
            ZSTD_CCtx_setParameter(context.pointer, ZSTD_c_checksumFlag, 1)
            let written = output.withUnsafeMutableBytes { buffer in
                ZSTD_compress2(context.pointer, buffer.baseAddress! + start, bound, input.baseAddress, input.count)
            }
            precondition(
                ZSTD_isError(written) == 0, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
            output.removeLast(bound - written)
        }
    }

    /// Decompresses zstd frames that must hold exactly `length` bytes, never writing past `length`;
    /// throws ``DecompressionFailure``.
    package static func zstdDecompress(_ input: UnsafeRawBufferPointer, length: Int) throws -> [UInt8] {
        try decompressPool.with { context -> [UInt8] in
            var failure: DecompressionFailure?
            let output = [UInt8](uninitializedCount: max(length, 1)) { buffer, initialized in
                let result = ZSTD_decompressDCtx(
                    context.pointer,
                    buffer.baseAddress,
                    length,
                    input.baseAddress,
                    input.count
                )
                if ZSTD_isError(result) != 0 {
                    let code = ZSTD_getErrorCode(result)
                    failure =
                        code == ZSTD_error_dstSize_tooSmall
                        ? .longerThanDeclared : .corrupt(String(cString: ZSTD_getErrorName(result)))
                    initialized = 0
                } else if result != length {
                    failure = .shorterThanDeclared
                    initialized = 0
                } else {
                    initialized = length
                }
            }
            if let failure { throw failure }
            return output
        }
    }

    /// The lowest and highest zstd compression levels.
    package static var zstdLevels: ClosedRange<Int> { Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel()) }
}
