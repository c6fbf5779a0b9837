import SessionPipeline

/// A growable byte buffer for writers on the hot path: appends are a bounds check and a store,
/// with none of the uniqueness checks an `Array` append makes.
///
/// It owns its memory (non-copyable, freed on deinit); ``finish()`` hands the bytes over as an
/// array.
struct ByteWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count: Int

    /// Creates an empty buffer with room for `capacity` bytes.
    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        self.base = .allocate(capacity: self.capacity)
        self.count = 0
    }

    deinit {
        base.deallocate()
    }

    @inline(never)
    mutating func grow(toHold extra: Int) {
        var newCapacity = capacity * 2
        while newCapacity < count + extra {
            newCapacity *= 2
        }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Makes sure `extra` more bytes fit without growing.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity {
            grow(toHold: extra)
        }
    }

    /// Appends one byte.
    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    /// Appends bytes.
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        copyBytes(to: UnsafeMutableRawPointer(base + count), from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends `count` bytes that `body` writes into the room it is given, and returns what
    /// `body` returns.
    @inline(__always)
    mutating func append<Result>(
        count extra: Int,
        _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result {
        reserve(extra)
        let result = try body(UnsafeMutableBufferPointer(start: base + count, count: extra))
        count += extra
        return result
    }

    /// Appends the bytes of an array.
    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends `value` in big-endian byte order.
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        reserve(MemoryLayout<T>.size)
        UnsafeMutableRawPointer(base + count).storeBytes(of: value.bigEndian, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// The bytes written, as an array; the writer is consumed.
    consuming func finish() -> [UInt8] {
        let count = self.count
        let base = self.base
        return [UInt8](uninitializedCount: count) { buffer, initialized in
            buffer.baseAddress?.update(from: base, count: count)
            initialized = count
        }
    }
}

/// Calls `body` with the UTF-8 of the string at `string`, for the writers that read values in
/// place. Contiguous UTF-8 (every native and small string) is read where it is, without the copy
/// of the string that `withUTF8`, a mutating method, needs; a bridged string is copied first.
@inline(__always)
func withUTF8InPlace(_ string: UnsafePointer<String>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
    let done: Void? = string.pointee.utf8.withContiguousStorageIfAvailable(body)
    if done == nil {
        var copy = string.pointee
        copy.withUTF8(body)
    }
}

/// Copies `count` bytes. A serializer copies mostly short runs — keys, short strings — for which a
/// call to `memmove` costs more than the copy: up to 16 bytes move as two overlapping words (or
/// two overlapping halves), inline; longer runs go to `memmove`. (Binary encode 0.94× the time.)
/// Every byte is read before any is written, so the regions may overlap, as with `memmove`.
@inline(__always)
func copyBytes(to target: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
    switch count {
    case 8...16:
        let head = source.loadUnaligned(as: UInt64.self)
        let tail = source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        target.storeBytes(of: head, as: UInt64.self)
        target.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
    case 4...7:
        let head = source.loadUnaligned(as: UInt32.self)
        let tail = source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        target.storeBytes(of: head, as: UInt32.self)
        target.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
    case 1...3:
        let (first, middle, last) = (
            source.load(as: UInt8.self), source.load(fromByteOffset: count / 2, as: UInt8.self),
            source.load(fromByteOffset: count - 1, as: UInt8.self)
        )
        target.storeBytes(of: first, as: UInt8.self)
        target.storeBytes(of: middle, toByteOffset: count / 2, as: UInt8.self)
        target.storeBytes(of: last, toByteOffset: count - 1, as: UInt8.self)
    case 0:
        break
    default:
        target.copyMemory(from: source, byteCount: count)
    }
}
