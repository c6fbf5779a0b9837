#!/usr/bin/env python3
"""Opens every envelope of docs/vectors/envelope-v1.json with an XChaCha20-Poly1305 that shares no
code with libsodium: HChaCha20 written out here from RFC draft-irtf-cfrg-xchacha, and the IETF
ChaCha20-Poly1305 of Python's `cryptography` package (OpenSSL). It also seals each plaintext again
with a fresh nonce and opens the result, to show the format round-trips in this implementation.

    check_envelopes.py VECTORS.json                    open every vector
    check_envelopes.py seal KEY_B64 KEY_ID CONTEXT EXPIRES < plaintext > envelope (base64url)
    check_envelopes.py open KEY_B64 CONTEXT < envelope > plaintext

`seal` and `open` let tests exchange envelopes with `sessionctl` in both directions.

Exit status: 0 all vectors open (or the envelope sealed or opened), 1 one does not, 3 the
`cryptography` package is missing.
"""
import base64
import json
import os
import struct
import sys

try:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.exceptions import InvalidTag
except ImportError:
    print("cryptography is not installed (python3 -m pip install cryptography)")
    sys.exit(3)

MASK = 0xFFFFFFFF


def rotl(value, count):
    return ((value << count) & MASK) | (value >> (32 - count))


def quarter_round(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & MASK; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & MASK; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & MASK; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & MASK; s[b] = rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        quarter_round(state, 0, 4, 8, 12); quarter_round(state, 1, 5, 9, 13)
        quarter_round(state, 2, 6, 10, 14); quarter_round(state, 3, 7, 11, 15)
        quarter_round(state, 0, 5, 10, 15); quarter_round(state, 1, 6, 11, 12)
        quarter_round(state, 2, 7, 8, 13); quarter_round(state, 3, 4, 9, 14)
    return struct.pack("<8I", *(state[0:4] + state[12:16]))


def xchacha_open(key, nonce24, ciphertext, associated):
    subkey = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(subkey).decrypt(b"\0\0\0\0" + nonce24[16:], ciphertext, associated)


def xchacha_seal(key, nonce24, plaintext, associated):
    subkey = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(subkey).encrypt(b"\0\0\0\0" + nonce24[16:], plaintext, associated)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def open_envelope(envelope, key, context):
    """Opens a version-1 envelope as docs/FORMAT.md describes it; returns (key id, expiry, plaintext)."""
    if len(envelope) < 53 or envelope[0] != 0x01:
        raise ValueError("not a version-1 envelope")
    key_id, expires = struct.unpack(">Iq", envelope[1:13])
    header, nonce = envelope[:37], envelope[13:37]
    plaintext = xchacha_open(key, nonce, envelope[37:], header + context.encode("utf-8"))
    return key_id, expires, plaintext


def main(path):
    with open(path, encoding="utf-8") as handle:
        vectors = json.load(handle)
    failures = 0
    for vector in vectors:
        key = bytes.fromhex(vector["key_hex"])
        envelope = b64url_decode(vector["envelope_b64url"])
        try:
            key_id, expires, plaintext = open_envelope(envelope, key, vector["context"])
            ok = (key_id == vector["key_id"] and expires == vector["expires"]
                  and plaintext.hex() == vector["plaintext_hex"])
            # Sealing again here, with a fresh nonce, must give an envelope this code opens too.
            header = bytes([1]) + struct.pack(">Iq", vector["key_id"], vector["expires"]) + os.urandom(24)
            again = header + xchacha_seal(key, header[13:37], plaintext, header + vector["context"].encode())
            ok = ok and open_envelope(again, key, vector["context"])[2] == plaintext
            # And a wrong context must not open.
            try:
                open_envelope(envelope, key, vector["context"] + "x")
                ok = False
            except InvalidTag:
                pass
        except (InvalidTag, ValueError) as error:
            ok = False
            print(f"FAILED {vector['name']}: {type(error).__name__} {error}")
        if not ok:
            failures += 1
            print(f"MISMATCH {vector['name']}")
    print(f"{len(vectors) - failures} of {len(vectors)} envelopes open with HChaCha20 + OpenSSL's ChaCha20-Poly1305")
    return 1 if failures else 0


def seal_command(key_b64, key_id, context, expires):
    key = base64.b64decode(key_b64)
    plaintext = sys.stdin.buffer.read()
    header = bytes([1]) + struct.pack(">Iq", int(key_id), int(expires)) + os.urandom(24)
    envelope = header + xchacha_seal(key, header[13:37], plaintext, header + context.encode("utf-8"))
    sys.stdout.write(base64.urlsafe_b64encode(envelope).decode().rstrip("=") + "\n")
    return 0


def open_command(key_b64, context):
    key = base64.b64decode(key_b64)
    envelope = b64url_decode(sys.stdin.read().strip())
    try:
        _, _, plaintext = open_envelope(envelope, key, context)
    except (InvalidTag, ValueError) as error:
        print(f"does not open: {type(error).__name__}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(plaintext)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "seal":
        sys.exit(seal_command(*sys.argv[2:6]))
    if sys.argv[1] == "open":
        sys.exit(open_command(*sys.argv[2:4]))
    sys.exit(main(sys.argv[1]))
