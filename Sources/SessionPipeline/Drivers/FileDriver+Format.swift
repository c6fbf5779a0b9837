/// The layout of one record file, version 1. All integers are big-endian.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `SPF1` |
/// | 4 | 1 | flags: bit 0 set when the record has an expiry |
/// | 5 | 8 | expiry, Int64 Unix seconds (0 when bit 0 is clear) |
/// | 13 | 8 | version, UInt64, random per write |
/// | 21 | 2 | key length K, UInt16 |
/// | 23 | 4 | value length V, UInt32 |
/// | 27 | K | the key, UTF-8 |
/// | 27+K | V | the value |
/// | 27+K+V | 4 | CRC-32 of every byte before it |
///
/// The key is stored so that traversal can report it and a read can check that the file it
/// opened belongs to the key it asked for.
enum RecordFile {
    static let magic: [UInt8] = Array("SPF1".utf8)
    static let headerLength = 27
    static let trailerLength = 4

    struct Header {
        var expires: UnixTime?
        var version: UInt64
        var keyLength: Int
        var valueLength: Int

        var fileLength: Int { RecordFile.headerLength + keyLength + valueLength + RecordFile.trailerLength }
    }

    /// The complete file for `record` under `key`.
    static func encode(key: SessionKey, record: Record<[UInt8]>, version: UInt64) -> [UInt8] {
        let keyBytes = Array(key.rawValue.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + keyBytes.count + record.value.count + trailerLength)
        bytes.append(contentsOf: magic)
        bytes.append(record.expires == nil ? 0 : 1)
        appendBigEndian(record.expires?.seconds ?? 0, to: &bytes)
        appendBigEndian(version, to: &bytes)
        appendBigEndian(UInt16(keyBytes.count), to: &bytes)
        appendBigEndian(UInt32(record.value.count), to: &bytes)
        bytes.append(contentsOf: keyBytes)
        bytes.append(contentsOf: record.value)
        let checksum = bytes.withUnsafeBytes { CRC32.checksum($0) }
        appendBigEndian(checksum, to: &bytes)
        return bytes
    }

    /// Parses the fixed header; `nil` when the bytes are not a version-1 header.
    static func header(_ bytes: UnsafeRawBufferPointer) -> Header? {
        guard bytes.count >= headerLength, bytes.prefix(4).elementsEqual(magic), bytes[4] <= 1 else {
            return nil
        }
        let expiry: Int64 = readBigEndian(bytes, at: 5)
        let keyLength = Int(readBigEndian(bytes, at: 21) as UInt16)
        guard keyLength > 0, keyLength <= SessionKey.maximumLength else { return nil }
        return Header(
            expires: bytes[4] == 1 ? UnixTime(seconds: expiry) : nil,
            version: readBigEndian(bytes, at: 13),
            keyLength: keyLength,
            valueLength: Int(readBigEndian(bytes, at: 23) as UInt32)
        )
    }

    /// Why a file failed to parse.
    enum Problem: Error {
        case notARecord
        case lengthMismatch(expected: Int, actual: Int)
        case checksumMismatch
        case keyMismatch

        var message: String {
            switch self {
            case .notARecord: "not a version-1 record file"
            case .lengthMismatch(let expected, let actual): "file is \(actual) bytes; its header says \(expected)"
            case .checksumMismatch: "checksum mismatch"
            case .keyMismatch: "file holds a different key"
            }
        }
    }

    /// Parses and verifies a whole file, checking that it holds `key` when one is given.
    static func decode(_ bytes: [UInt8], expecting key: SessionKey?) throws(Problem) -> (SessionKey, Record<[UInt8]>) {
        let result: Result<(SessionKey, Record<[UInt8]>), Problem> = bytes.withUnsafeBytes { raw in
            guard let header = header(raw) else { return .failure(.notARecord) }
            guard header.fileLength == raw.count else {
                return .failure(.lengthMismatch(expected: header.fileLength, actual: raw.count))
            }
            let body = raw.count - trailerLength
            let stored: UInt32 = readBigEndian(raw, at: body)
            guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[..<body])) == stored else {
                return .failure(.checksumMismatch)
            }
            let keyBytes = raw[headerLength..<(headerLength + header.keyLength)]
            let storedKey: SessionKey
            if let key {
                guard key.rawValue.utf8.elementsEqual(keyBytes) else { return .failure(.keyMismatch) }
                storedKey = key
            } else {
                guard let text = UTF8Text.string(UnsafeRawBufferPointer(rebasing: keyBytes)),
                    let parsed = try? SessionKey(text)
                else {
                    return .failure(.notARecord)
                }
                storedKey = parsed
            }
            let valueStart = headerLength + header.keyLength
            let value = [UInt8](raw[valueStart..<(valueStart + header.valueLength)])
            return .success(
                (storedKey, Record(value, expires: header.expires, version: RecordVersion(rawValue: header.version)))
            )
        }
        return try result.get()
    }

    /// The key of a file from its first bytes (header and key), without the value.
    static func key(fromPrefix raw: UnsafeRawBufferPointer) -> SessionKey? {
        guard let header = header(raw), raw.count >= headerLength + header.keyLength else { return nil }
        let keyBytes = raw[headerLength..<(headerLength + header.keyLength)]
        guard let text = UTF8Text.string(UnsafeRawBufferPointer(rebasing: keyBytes)) else { return nil }
        return try? SessionKey(text)
    }
}

func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
}

func readBigEndian<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
    var value = T.zero
    withUnsafeMutableBytes(of: &value) { target in
        target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + MemoryLayout<T>.size)]))
    }
    return T(bigEndian: value)
}
