#include "session_base64.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

#include <immintrin.h>

#define SSSE3 __attribute__((target("ssse3")))
#define AVX2 __attribute__((target("avx2")))

// Each reads a flag the compiler's runtime sets once, at start-up.
static int has_ssse3(void) { return __builtin_cpu_supports("ssse3"); }
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }

// The byte tables of both loops, written once: the SSSE3 loops load each as it is, the AVX2 loops
// into both of their 128-bit lanes (AVX2's byte shuffles stay within a lane).

/// Encoding: puts three input bytes in each 32-bit lane, arranged so that two multiplies can move
/// each 6-bit field to the bottom of its own byte (W. Muła's encoding, 2016).
static const uint8_t encode_spread[16] = {1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10};
/// Encoding: what to add to a 6-bit value of each class (see `encode_block`) to get its character.
static const int8_t encode_offsets[16] = {
    'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
    '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0};

// Decoding: a character is in the alphabet when the class bits its low nibble allows share one
// with the class of its high nibble (W. Muła's validation, 2016, with classes for base64url):
//   bit 0: high 2, low D ('-')          bit 3: high 5, low 0-A or F ('P'-'Z', '_')
//   bit 1: high 3, low 0-9 (digits)     bit 4: high 7, low 0-A ('p'-'z')
//   bit 2: high 4 or 6, low 1-F ('A'-'O', 'a'-'o')
// High nibbles 0, 1 and 8-F have no class: control characters and every byte from 0x80.
static const uint8_t decode_low_classes[16] = {
    0x1A, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1C, 0x04, 0x04, 0x05, 0x04, 0x0C};
static const uint8_t decode_high_classes[16] = {0, 0, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0, 0, 0, 0, 0, 0, 0, 0};
/// Decoding: what to add to a character to get its value, by high nibble; '_' (0x5F) adds 33 more.
static const int8_t decode_offsets[16] = {0, 0, 62 - '-', 52 - '0', -'A', -'A', 26 - 'a', 26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0};
/// Decoding: the three bytes of each 32-bit lane in order, at the start of the 16 (0x80: zero).
static const uint8_t decode_gather[16] = {2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0x80, 0x80, 0x80, 0x80};

SSSE3 static inline __m128i table128(const void *table) { return _mm_loadu_si128((const __m128i *)table); }
AVX2 static inline __m256i table256(const void *table) { return _mm256_broadcastsi128_si256(table128(table)); }

/// The sixteen base64url characters of 12 input bytes (the first 12 of `block`).
SSSE3 static inline __m128i encode_block(__m128i block) {
    __m128i in = _mm_shuffle_epi8(block, table128(encode_spread));
    __m128i high = _mm_mulhi_epu16(_mm_and_si128(in, _mm_set1_epi32(0x0fc0fc00)), _mm_set1_epi32(0x04000040));
    __m128i low = _mm_mullo_epi16(_mm_and_si128(in, _mm_set1_epi32(0x003f03f0)), _mm_set1_epi32(0x01000010));
    __m128i values = _mm_or_si128(high, low);
    // 0...25 → class 13, 26...51 → 0, 52...63 → 1...12; each class has one offset to add.
    __m128i class = _mm_subs_epu8(values, _mm_set1_epi8(51));
    __m128i below26 = _mm_cmpgt_epi8(_mm_set1_epi8(26), values);
    class = _mm_or_si128(class, _mm_and_si128(below26, _mm_set1_epi8(13)));
    return _mm_add_epi8(values, _mm_shuffle_epi8(table128(encode_offsets), class));
}

/// The same as `encode_block` on two blocks of 12 bytes, one per lane.
AVX2 static inline __m256i encode_blocks(__m256i blocks) {
    __m256i in = _mm256_shuffle_epi8(blocks, table256(encode_spread));
    __m256i high =
        _mm256_mulhi_epu16(_mm256_and_si256(in, _mm256_set1_epi32(0x0fc0fc00)), _mm256_set1_epi32(0x04000040));
    __m256i low =
        _mm256_mullo_epi16(_mm256_and_si256(in, _mm256_set1_epi32(0x003f03f0)), _mm256_set1_epi32(0x01000010));
    __m256i values = _mm256_or_si256(high, low);
    __m256i class = _mm256_subs_epu8(values, _mm256_set1_epi8(51));
    __m256i below26 = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), values);
    class = _mm256_or_si256(class, _mm256_and_si256(below26, _mm256_set1_epi8(13)));
    return _mm256_add_epi8(values, _mm256_shuffle_epi8(table256(encode_offsets), class));
}

/// The 12 bytes of sixteen base64url characters, at the start of the result; sets bytes of
/// `invalid` for characters outside the alphabet (the bytes decoded from those are garbage).
SSSE3 static inline __m128i decode_block(__m128i text, __m128i *invalid) {
    const __m128i nibble = _mm_set1_epi8(0x0F);
    __m128i high = _mm_and_si128(_mm_srli_epi32(text, 4), nibble);
    __m128i low = _mm_and_si128(text, nibble);
    __m128i classes = _mm_and_si128(_mm_shuffle_epi8(table128(decode_low_classes), low),
                                    _mm_shuffle_epi8(table128(decode_high_classes), high));
    *invalid = _mm_or_si128(*invalid, _mm_cmpeq_epi8(classes, _mm_setzero_si128()));
    __m128i underscore = _mm_and_si128(_mm_cmpeq_epi8(text, _mm_set1_epi8('_')), _mm_set1_epi8(33));
    __m128i values = _mm_add_epi8(text, _mm_add_epi8(_mm_shuffle_epi8(table128(decode_offsets), high), underscore));
    // Four 6-bit values to 24 bits per 32-bit lane, then the three bytes of each lane in order.
    __m128i pairs = _mm_maddubs_epi16(values, _mm_set1_epi32(0x01400140));
    __m128i words = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));
    return _mm_shuffle_epi8(words, table128(decode_gather));
}

/// The same as `decode_block` on 32 characters, one block per lane: 12 bytes at the start of each.
AVX2 static inline __m256i decode_blocks(__m256i text, __m256i *invalid) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256i high = _mm256_and_si256(_mm256_srli_epi32(text, 4), nibble);
    __m256i low = _mm256_and_si256(text, nibble);
    __m256i classes = _mm256_and_si256(_mm256_shuffle_epi8(table256(decode_low_classes), low),
                                       _mm256_shuffle_epi8(table256(decode_high_classes), high));
    *invalid = _mm256_or_si256(*invalid, _mm256_cmpeq_epi8(classes, _mm256_setzero_si256()));
    __m256i underscore = _mm256_and_si256(_mm256_cmpeq_epi8(text, _mm256_set1_epi8('_')), _mm256_set1_epi8(33));
    __m256i values =
        _mm256_add_epi8(text, _mm256_add_epi8(_mm256_shuffle_epi8(table256(decode_offsets), high), underscore));
    __m256i pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
    __m256i words = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
    return _mm256_shuffle_epi8(words, table256(decode_gather));
}

SSSE3 static size_t encode_ssse3(const uint8_t *input, size_t count, uint8_t *output) {
    size_t read = 0;
    while (count - read >= 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)(input + read));
        _mm_storeu_si128((__m128i *)output, encode_block(block));
        read += 12;
        output += 16;
    }
    return read;
}

SSSE3 static long decode_ssse3(const uint8_t *input, size_t count, uint8_t *output) {
    __m128i invalid = _mm_setzero_si128();
    size_t read = 0;
    while (count - read >= 16) {
        __m128i bytes = decode_block(_mm_loadu_si128((const __m128i *)(input + read)), &invalid);
        // Twelve bytes: eight, then four (a 16-byte store could run past the output).
        _mm_storel_epi64((__m128i *)output, bytes);
        uint32_t last = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(bytes, 8));
        memcpy(output + 8, &last, 4);
        read += 16;
        output += 12;
    }
    return _mm_movemask_epi8(invalid) == 0 ? (long)read : -1;
}

// 24 bytes to 32 characters and back per step; the SSSE3 loops then do what is left.

AVX2 static size_t encode_avx2(const uint8_t *input, size_t count, uint8_t *output) {
    size_t read = 0;
    // The second 16-byte load ends 28 bytes in.
    while (count - read >= 28) {
        __m256i blocks = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(input + read))),
            _mm_loadu_si128((const __m128i *)(input + read + 12)), 1);
        _mm256_storeu_si256((__m256i *)output, encode_blocks(blocks));
        read += 24;
        output += 32;
    }
    return read;
}

AVX2 static long decode_avx2(const uint8_t *input, size_t count, uint8_t *output) {
    __m256i invalid = _mm256_setzero_si256();
    size_t read = 0;
    while (count - read >= 32) {
        __m256i bytes = decode_blocks(_mm256_loadu_si256((const __m256i *)(input + read)), &invalid);
        // The permute puts the two runs of twelve together; then sixteen bytes and eight.
        bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
        _mm_storeu_si128((__m128i *)output, _mm256_castsi256_si128(bytes));
        _mm_storel_epi64((__m128i *)(output + 16), _mm256_extracti128_si256(bytes, 1));
        read += 32;
        output += 24;
    }
    return _mm256_movemask_epi8(invalid) == 0 ? (long)read : -1;
}

size_t session_base64url_encode_blocks(const uint8_t *input, size_t count, uint8_t *output) {
    if (count < 16 || !has_ssse3()) return 0;
    size_t read = has_avx2() ? encode_avx2(input, count, output) : 0;
    return read + encode_ssse3(input + read, count - read, output + read / 3 * 4);
}

long session_base64url_decode_blocks(const uint8_t *input, size_t count, uint8_t *output) {
    if (count < 16 || !has_ssse3()) return 0;
    long read = has_avx2() ? decode_avx2(input, count, output) : 0;
    if (read < 0) return -1;
    long rest = decode_ssse3(input + read, count - (size_t)read, output + read / 4 * 3);
    return rest < 0 ? -1 : read + rest;
}

#else

size_t session_base64url_encode_blocks(const uint8_t *input, size_t count, uint8_t *output) {
    (void)input;
    (void)count;
    (void)output;
    return 0;
}

long session_base64url_decode_blocks(const uint8_t *input, size_t count, uint8_t *output) {
    (void)input;
    (void)count;
    (void)output;
    return 0;
}

#endif
