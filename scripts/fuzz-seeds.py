#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora, Fuzz/Corpus/NAME/, from docs/vectors/serializers.json: one
file per vector, holding the payload after its tag byte (the fuzz targets add the tag)."""
import hashlib
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(root, "docs/vectors/serializers.json"), encoding="utf-8") as handle:
    vectors = json.load(handle)
for vector in vectors:
    directory = os.path.join(root, "Fuzz/Corpus", vector["format"])
    os.makedirs(directory, exist_ok=True)
    payload = bytes.fromhex(vector["hex"])[1:]
    name = hashlib.sha1(payload).hexdigest()[:16]
    with open(os.path.join(directory, name), "wb") as out:
        out.write(payload)
print(f"wrote seeds for {len(vectors)} vectors", file=sys.stderr)
