#include "session_base64.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

#include <immintrin.h>

#define SSSE3 __attribute__((target("ssse3")))

static int has_ssse3(void) {
    // Reads a flag the compiler's runtime sets once, at start-up.
    return __builtin_cpu_supports("ssse3");
}

/// The sixteen 6-bit values of 12 input bytes (the first 12 of `block`), one per byte, in order.
SSSE3 static inline __m128i sextets(__m128i block) {
    // Each 32-bit lane gets three input bytes, arranged so that two multiplies can move each
    // 6-bit field to the bottom of its own byte (W. Muła's encoding, 2016).
    __m128i in = _mm_shuffle_epi8(block, _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1));
    __m128i high = _mm_mulhi_epu16(_mm_and_si128(in, _mm_set1_epi32(0x0fc0fc00)), _mm_set1_epi32(0x04000040));
    __m128i low = _mm_mullo_epi16(_mm_and_si128(in, _mm_set1_epi32(0x003f03f0)), _mm_set1_epi32(0x01000010));
    return _mm_or_si128(high, low);
}

/// The base64url characters for sixteen 6-bit values.
SSSE3 static inline __m128i characters(__m128i values) {
    // 0...25 → class 13, 26...51 → 0, 52...63 → 1...12; each class has one offset to add.
    __m128i class = _mm_subs_epu8(values, _mm_set1_epi8(51));
    __m128i below26 = _mm_cmpgt_epi8(_mm_set1_epi8(26), values);
    class = _mm_or_si128(class, _mm_and_si128(below26, _mm_set1_epi8(13)));
    const __m128i offsets = _mm_setr_epi8(
        'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
        '0' - 52, '0' - 52, '0' - 52, '-' - 62, '_' - 63, 'A', 0, 0);
    return _mm_add_epi8(values, _mm_shuffle_epi8(offsets, class));
}

SSSE3 static size_t encode_ssse3(const uint8_t *input, size_t count, uint8_t *output) {
    size_t read = 0;
    while (count - read >= 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)(input + read));
        _mm_storeu_si128((__m128i *)output, characters(sextets(block)));
        read += 12;
        output += 16;
    }
    return read;
}

/// Whether each byte of `text` lies in [low, high] (signed compares: bytes from 0x80 up are
/// negative, below every range here).
SSSE3 static inline __m128i within(__m128i text, char low, char high) {
    return _mm_and_si128(_mm_cmpgt_epi8(text, _mm_set1_epi8((char)(low - 1))),
                         _mm_cmpgt_epi8(_mm_set1_epi8((char)(high + 1)), text));
}

SSSE3 static long decode_ssse3(const uint8_t *input, size_t count, uint8_t *output) {
    size_t read = 0;
    while (count - read >= 16) {
        __m128i text = _mm_loadu_si128((const __m128i *)(input + read));
        __m128i upper = within(text, 'A', 'Z');
        __m128i lower = within(text, 'a', 'z');
        __m128i digit = within(text, '0', '9');
        __m128i dash = _mm_cmpeq_epi8(text, _mm_set1_epi8('-'));
        __m128i underscore = _mm_cmpeq_epi8(text, _mm_set1_epi8('_'));
        __m128i valid = _mm_or_si128(_mm_or_si128(upper, lower), _mm_or_si128(digit, _mm_or_si128(dash, underscore)));
        if (_mm_movemask_epi8(valid) != 0xFFFF) return -1;
        // The offset from each character to its value; the classes do not overlap.
        __m128i offset = _mm_or_si128(
            _mm_or_si128(_mm_and_si128(upper, _mm_set1_epi8(-'A')), _mm_and_si128(lower, _mm_set1_epi8(26 - 'a'))),
            _mm_or_si128(_mm_and_si128(digit, _mm_set1_epi8(52 - '0')),
                         _mm_or_si128(_mm_and_si128(dash, _mm_set1_epi8(62 - '-')),
                                      _mm_and_si128(underscore, _mm_set1_epi8(63 - '_')))));
        __m128i values = _mm_add_epi8(text, offset);
        // Four 6-bit values to 24 bits per 32-bit lane, then the three bytes of each lane in order.
        __m128i pairs = _mm_maddubs_epi16(values, _mm_set1_epi32(0x01400140));
        __m128i words = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));
        __m128i bytes = _mm_shuffle_epi8(words, _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
        // Twelve bytes: eight, then four (a 16-byte store could run past the output).
        _mm_storel_epi64((__m128i *)output, bytes);
        uint32_t last = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(bytes, 8));
        memcpy(output + 8, &last, 4);
        read += 16;
        output += 12;
    }
    return (long)read;
}

size_t session_base64url_encode_blocks(const uint8_t *input, size_t count, uint8_t *output) {
    if (!has_ssse3()) return 0;
    return encode_ssse3(input, count, output);
}

long session_base64url_decode_blocks(const uint8_t *input, size_t count, uint8_t *output) {
    if (!has_ssse3()) return 0;
    return decode_ssse3(input, count, output);
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
