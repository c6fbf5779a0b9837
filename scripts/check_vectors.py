#!/usr/bin/env python3
"""Checks docs/vectors/serializers.json with independent readers: Python's msgpack for the binary
format, plistlib for both property-list formats, and json for JSON. Each vector's bytes must read
back, through the representation documented in docs/FORMAT.md, as the vector's value.

Exit status: 0 all vectors agree, 1 a vector disagrees, 3 python's msgpack is missing.
"""
import base64
import datetime
import decimal
import json
import math
import plistlib
import struct
import sys

try:
    import msgpack
except ImportError:
    print("msgpack is not installed (python3 -m pip install msgpack)")
    sys.exit(3)

EPOCH = datetime.datetime(1970, 1, 1)
TAGS = {"json": 0x20, "binary": 0x21, "plist-binary": 0x22, "plist-xml": 0x23}


class Date:
    """A date as microseconds since 1970, so every reader's form compares exactly."""

    def __init__(self, micros):
        self.micros = micros

    def __eq__(self, other):
        return isinstance(other, Date) and other.micros == self.micros

    def __repr__(self):
        return f"Date({self.micros})"


def same(a, b):
    """Equality that tells bool from int from float and compares floats bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def unescape(key):
    return key[1:] if key.startswith("$$") else key


def from_json(node):
    """The project's JSON representation → plain Python values."""
    if isinstance(node, dict):
        if len(node) == 1:
            (key, value), = node.items()
            if key == "$bytes" and isinstance(value, str):
                return base64.b64decode(value, validate=True)
            if key == "$int" and isinstance(value, str):
                return int(value)
            if key == "$date" and isinstance(value, (int, decimal.Decimal)):
                return Date(int(decimal.Decimal(value) * 1_000_000))
        return {unescape(k): from_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [from_json(v) for v in node]
    if isinstance(node, decimal.Decimal):
        return float(node)
    return node


def from_msgpack(node):
    if isinstance(node, msgpack.Timestamp):
        assert node.nanoseconds % 1000 == 0
        return Date(node.seconds * 1_000_000 + node.nanoseconds // 1000)
    if isinstance(node, dict):
        for key in node:
            assert isinstance(key, str), "map keys must be strings"
        return {k: from_msgpack(v) for k, v in node.items()}
    if isinstance(node, list):
        return [from_msgpack(v) for v in node]
    return node


def from_plist(node):
    """plistlib's values → plain Python values, undoing the documented tagged forms."""
    if isinstance(node, datetime.datetime):
        delta = node - EPOCH
        return Date(delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds)
    if isinstance(node, dict):
        if len(node) == 1:
            (key, value), = node.items()
            if key == "$null" and value is True:
                return None
            if key == "$date" and type(value) is int:
                return Date(value)
            if key == "$string" and isinstance(value, bytes):
                return value.decode("utf-8")
        return {unescape(k): from_plist(v) for k, v in node.items()}
    if isinstance(node, list):
        return [from_plist(v) for v in node]
    return node


def read(fmt, payload):
    if fmt == "json":
        return from_json(json.loads(payload.decode("utf-8"), parse_float=decimal.Decimal))
    if fmt == "binary":
        return from_msgpack(msgpack.unpackb(payload, raw=False, strict_map_key=True, timestamp=0))
    if fmt in ("plist-binary", "plist-xml"):
        return from_plist(plistlib.loads(payload))
    raise ValueError(f"unknown format {fmt}")


def main(path):
    with open(path, encoding="utf-8") as handle:
        vectors = json.load(handle, parse_float=decimal.Decimal)
    failures = 0
    readers = {"json": "json", "binary": f"msgpack {msgpack.version}", "plist-binary": "plistlib", "plist-xml": "plistlib"}
    for vector in vectors:
        data = bytes.fromhex(vector["hex"])
        expected = from_json(vector["value"])
        try:
            if data[0] != TAGS[vector["format"]]:
                raise ValueError(f"tag 0x{data[0]:02x}")
            actual = read(vector["format"], data[1:])
        except Exception as error:  # a reader that refuses the bytes is a failure too
            actual = f"<{type(error).__name__}: {error}>"
        if not same(actual, expected):
            failures += 1
            print(f"MISMATCH {vector['format']} {vector['name']}: read {actual!r}, expected {expected!r}")
    counts = {}
    for vector in vectors:
        counts[vector["format"]] = counts.get(vector["format"], 0) + 1
    for fmt, count in sorted(counts.items()):
        print(f"{fmt}: {count} vectors checked with {readers[fmt]}")
    print(f"{len(vectors) - failures} of {len(vectors)} vectors agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
