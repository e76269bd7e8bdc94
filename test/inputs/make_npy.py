#!/usr/bin/env python3
"""Writes a small .npy file for the sattn-accuracy tests, without NumPy.

usage: make_npy.py OUT B,H,S,D [--dtype f4|f8] [--fortran] [--nan] [--inf]
                   [--truncate N] [--seed N]

Values are pseudo-random in [-1, 1). --nan/--inf put one bad value at
element 5; --truncate drops the last N bytes.
"""

import argparse
import random
import struct


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("shape")
    parser.add_argument("--dtype", default="f4", choices=["f4", "f8"])
    parser.add_argument("--fortran", action="store_true")
    parser.add_argument("--nan", action="store_true")
    parser.add_argument("--inf", action="store_true")
    parser.add_argument("--truncate", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    shape = tuple(int(x) for x in args.shape.split(","))
    count = 1
    for extent in shape:
        count *= extent
    rng = random.Random(args.seed)
    values = [rng.uniform(-1, 1) for _ in range(count)]
    if args.nan:
        values[5] = float("nan")
    if args.inf:
        values[5] = float("inf")

    shape_text = "(" + ", ".join(str(x) for x in shape) + ("," if len(shape) == 1 else "") + ")"
    header = ("{'descr': '<%s', 'fortran_order': %s, 'shape': %s, }"
              % (args.dtype, "True" if args.fortran else "False", shape_text))
    # Pad so that magic + version + length + header is a multiple of 64.
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    data = b"".join(struct.pack("<" + args.dtype[0], v) if args.dtype == "f4"
                    else struct.pack("<d", v) for v in values)
    blob = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
    if args.truncate:
        blob = blob[:-args.truncate]
    with open(args.out, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
