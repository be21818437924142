#!/usr/bin/python3
"""Reference decoder for the .vbq container, versions 4.0 to 4.3.

Written from formats/SPEC.md alone, to show that the SPEC is complete and that
decoding needs nothing but integer arithmetic and table lookups: no prior, no
libm. It favours plain code over speed (pure Python rANS and range-coder loops,
~10^5 symbols/s), like zstd's educational decoder.

    /usr/bin/python3 formats/reference_decoder.py FILE.vbq OUT.npz [--vocab WORDS.txt]

writes each tensor under its container name, shaped, in its dtype (float32 or
float64), and with --vocab the vocabulary one word per line. Files older than
4.0 are rejected: their values come from F^-1 of the prior, which they do not
carry. Exit status 1 with a message naming the file on any error.

Needs Python 3 and numpy; the rest is the standard library (lzma for the
vocabulary).
"""
import bisect
import lzma
import struct
import sys

import numpy as np

MAGIC = b"\x89VBQ"
MAJOR = 4
RANS_STREAMS = 4
RANS_LOWER = 1 << 31
MAX_ELEMENTS = 1 << 48
ESCAPE = 0  # the vbq escape symbol
QUANTIZERS = {1: "vbq", 2: "grid", 3: "codebook"}
# Prior family -> rule on the parameter count P (SPEC, "Parameters by quantizer").
PRIOR_PARAMETERS = {
    1: lambda p: p == 2,                              # Gaussian
    2: lambda p: p == 2,                              # Laplace
    3: lambda p: p == 3,                              # Student-t
    4: lambda p: p % 3 == 0 and 1 <= p // 3 <= 16,    # Gaussian mixture
    5: lambda p: p % 2 == 0 and 2 <= (p - 2) // 2 <= 31,  # empirical
}


class DecodeError(Exception):
    pass


# --- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) -------------------

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --- Bounds-checked little-endian reader -------------------------------------

class Reader:
    def __init__(self, data, where):
        self.data, self.pos, self.where = data, 0, where

    def fail(self, what):
        raise DecodeError(f"{self.where}: {what} at byte offset {self.pos}")

    def remaining(self):
        return len(self.data) - self.pos

    def bytes(self, n):
        if n > self.remaining():
            self.fail(f"truncated (needs {n} bytes, {self.remaining()} left)")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def fixed(self, n):
        return int.from_bytes(self.bytes(n), "little")

    def u8(self):
        return self.fixed(1)

    def f64(self):
        return struct.unpack("<d", self.bytes(8))[0]

    def varint(self):  # unsigned LEB128, at most 10 bytes, < 2^64
        value = 0
        for shift in range(0, 70, 7):
            b = self.u8()
            if shift == 63 and b > 1:
                self.fail("varint overflows 64 bits")
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
        self.fail("varint longer than 10 bytes")

    def count(self, min_bytes, what):  # a count of items of >= min_bytes each
        n = self.varint()
        if n * min_bytes > self.remaining():
            self.fail(f"{what} count {n} exceeds the remaining bytes")
        return n

    def str(self, what):
        return self.bytes(self.count(1, what)).decode("utf-8")

    def values(self, n, float32, what):  # n values of the dtype, finite
        raw = self.bytes(n * (4 if float32 else 8))
        v = np.frombuffer(raw, dtype="<f4" if float32 else "<f8")
        if not np.all(np.isfinite(v)):
            self.fail(f"non-finite {what}")
        return v

    def section(self, where):  # u64 length, body, u32 CRC-32C of the body
        self.where = where
        length = self.fixed(8)
        body = self.bytes(length)
        if crc32c(body) != self.fixed(4):
            self.fail("CRC-32C mismatch (the section is damaged)")
        return Reader(body, where)


# --- rANS (SPEC, "Blocks") ---------------------------------------------------

class FrequencyTable:
    def __init__(self, freq, precision):
        self.freq, self.precision = freq, precision
        self.start = [0]  # start[s] = freq[0] + ... + freq[s-1]; A + 1 entries
        for f in freq:
            self.start.append(self.start[-1] + f)
        if self.start[-1] != 1 << precision:
            raise DecodeError(f"frequency table sums to {self.start[-1]}, not 2^{precision}")

    def symbol(self, slot):  # the symbol whose range [start, start + freq) holds slot
        return bisect.bisect_right(self.start, slot) - 1


def rans_decode(block, table, n, where):
    """Alphabet indices of the n symbols of one block."""
    if len(block) < 8 * RANS_STREAMS:
        raise DecodeError(f"{where}: block shorter than its states")
    x = [int.from_bytes(block[8 * j:8 * j + 8], "little") for j in range(RANS_STREAMS)]
    if any(not RANS_LOWER <= s < RANS_LOWER << 32 for s in x):
        raise DecodeError(f"{where}: initial state out of range")
    prec, mask, pos = table.precision, (1 << table.precision) - 1, 8 * RANS_STREAMS
    out = np.empty(n, dtype=np.uint32)
    for i in range(n):
        j = i % RANS_STREAMS  # symbol i belongs to state i mod 4
        slot = x[j] & mask
        s = table.symbol(slot)
        x[j] = table.freq[s] * (x[j] >> prec) + slot - table.start[s]
        if x[j] < RANS_LOWER:  # renormalise: read one 32-bit word
            if pos + 4 > len(block):
                raise DecodeError(f"{where}: truncated at symbol {i}")
            x[j] = (x[j] << 32) | int.from_bytes(block[pos:pos + 4], "little")
            pos += 4
        out[i] = s
    if pos != len(block) or any(s != RANS_LOWER for s in x):
        raise DecodeError(f"{where}: does not end in its initial states with every byte used")
    return out


# --- Context coder (SPEC, "Blocks (context coder, 4.1)") ---------------------

CTX_FLAGS = 4          # unary flags before Exp-Golomb
CTX_TREE_BITS = 10     # suffix lengths with a context tree
CTX_PREFIXES = 33
CTX_NEIGHBOURS = 75    # left class x above class x above2
FAST_SHIFT, SLOW_SHIFT = 4, 7
TOP = 1 << 24
MASK32 = 0xFFFFFFFF


def context_decode(block, a, row_length, first_column, n, where):
    """Alphabet indices of the n symbols of one context-coded block.

    A bin model is a pair (fast, slow) stored in two flat lists at one position:
    flags at nb * 4 + k, prefixes at 300 + nb * 33 + n, the suffix tree at
    300 + 75 * 33 + t. Everything starts at 1/2 in every block.
    """
    if len(block) < 4:
        raise DecodeError(f"{where}: shorter than the coder's 4-byte state")
    flag_base, prefix_base = 0, CTX_NEIGHBOURS * CTX_FLAGS
    tree_base = prefix_base + CTX_NEIGHBOURS * CTX_PREFIXES
    fast = [32768] * (tree_base + (2 << CTX_TREE_BITS))
    slow = list(fast)
    code = int.from_bytes(block[:4], "big")
    if code == MASK32:
        raise DecodeError(f"{where}: initial coder state out of range")
    rng, pos, end = MASK32, 4, len(block)

    def renormalise():
        nonlocal rng, code, pos
        while rng < TOP:
            if pos == end:
                raise DecodeError(f"{where}: truncated")
            rng = (rng << 8) & MASK32
            code = ((code << 8) | block[pos]) & MASK32
            pos += 1

    def bin_(m):  # one bin with model m; adapts it
        nonlocal rng, code
        bound = (rng >> 16) * ((fast[m] + slow[m]) >> 1)
        if code < bound:
            rng = bound
            fast[m] += (65536 - fast[m]) >> FAST_SHIFT
            slow[m] += (65536 - slow[m]) >> SLOW_SHIFT
            bit = 0
        else:
            code -= bound
            rng -= bound
            fast[m] -= fast[m] >> FAST_SHIFT
            slow[m] -= slow[m] >> SLOW_SHIFT
            bit = 1
        if rng < TOP:
            renormalise()
        return bit

    def bypass():
        nonlocal rng, code
        rng >>= 1
        bit = 0
        if code >= rng:
            code -= rng
            bit = 1
        if rng < TOP:
            renormalise()
        return bit

    last = a - 1
    flags = min(CTX_FLAGS, last)
    n_max = (last - CTX_FLAGS + 1).bit_length() - 1 if last > CTX_FLAGS else 0
    L = row_length
    v = [0] * n
    column = first_column
    for i in range(n):
        # Neighbour classes: 1 + min(index, 3), 0 where the neighbour is missing.
        left = 1 + min(v[i - 1], 3) if column > 0 and i > 0 else 0
        above = 1 + min(v[i - L], 3) if i >= L else 0
        above2 = (2 if v[i - 2 * L] else 1) if i >= 2 * L else 0
        nb = (left * 5 + above) * 3 + above2
        # Truncated unary flags [v > 0], [v > 1], ...
        k = 0
        while k < flags and bin_(flag_base + nb * CTX_FLAGS + k):
            k += 1
        if k == flags and k < last:
            # Exp-Golomb order 0 of r = v - 4: prefix n, then the n bits of r + 1 below its leading 1.
            p = prefix_base + nb * CTX_PREFIXES
            bits = 0
            while bits < n_max and bin_(p + bits):
                bits += 1
            x = 1
            for _ in range(bits):
                x = 2 * x + (bin_(tree_base + (1 << bits) - 2 + x) if bits <= CTX_TREE_BITS else bypass())
            k = x - 1 + CTX_FLAGS
            if k >= a:
                raise DecodeError(f"{where}: symbol {i} decodes to index {k}, outside the alphabet of {a}")
        v[i] = k
        column += 1
        if column == L:
            column = 0
    if pos != end:
        raise DecodeError(f"{where}: {end - pos} trailing bytes")
    return np.array(v, dtype=np.uint32)


# --- Tensor section (SPEC, "Tensor section body") ----------------------------

def unzigzag(s):
    return (s >> 1) ^ -(s & 1)


def is_code_point(key):  # 1 b1 ... bR with bR = 1, 1 <= R <= 62
    return key >= 3 and key & 1 and key.bit_length() - 1 <= 62


def read_tensor(r):
    name = r.str("name")
    r.where = f"tensor '{name}'"
    mean_path = r.str("mean path")
    dtype = r.u8()
    if dtype not in (1, 2):
        r.fail(f"unknown dtype {dtype}")
    float32 = dtype == 1
    rank = r.varint()
    if not 1 <= rank <= 32:
        r.fail(f"invalid rank {rank}")
    shape, n = [], 1
    for _ in range(rank):
        d = r.varint()
        if d == 0 or n * d > MAX_ELEMENTS:
            r.fail("invalid or too large shape")
        shape.append(d)
        n *= d
    quantizer = QUANTIZERS.get(r.u8())
    if quantizer is None:
        r.fail("unknown quantizer")
    if quantizer == "vbq":
        family = r.u8()
        p = r.count(8, "prior parameter")
        if family not in PRIOR_PARAMETERS:
            r.fail(f"unknown prior family {family}")
        if not PRIOR_PARAMETERS[family](p):
            r.fail(f"{p} parameters for prior family {family}")
        r.bytes(8 * p + 8 + 1)  # the prior, lambda and max_rate_bits: not needed to decode
        parameters = []
    else:
        parameters = [r.f64() for _ in range(r.count(8, "parameter"))]
    coder = r.u8()
    gains = bool(coder & 0x80)  # bit 7 (4.2): row-group gains follow the escapes
    centered = bool(coder & 0x40)  # bit 6 (4.3): column means follow the gains
    coder &= 0x3F
    if coder not in (0, 1):  # 0 = rANS, 1 = the context coder (4.1)
        r.fail(f"unknown coder {coder}")
    if gains and quantizer != "vbq":
        r.fail("row-group gains on a tensor that is not vbq")
    if centered and quantizer != "vbq":
        r.fail("column means on a tensor that is not vbq")
    rans = coder == 0

    # Code-point table (precision and frequency tables with rANS only).
    a = r.count(2 if rans else 1, "alphabet")
    if a == 0:
        r.fail("empty code-point table")
    if rans:
        precision = r.u8()
        if not 1 <= precision <= 28:
            r.fail(f"precision {precision} outside 1..28")
    alphabet = []
    for i in range(a):
        delta = r.varint()
        if i > 0 and delta == 0:
            r.fail("code-point table not increasing")
        alphabet.append(delta + (alphabet[-1] if i else 0))
    escape = quantizer == "vbq" and alphabet[0] == ESCAPE
    if quantizer == "vbq":
        bad = [k for k in alphabet[escape:] if not is_code_point(k)]
        if bad:
            r.fail(f"invalid code point {bad[0]}")
        values = r.values(a - escape, float32, "reconstruction value")
        if escape:
            values = np.concatenate([np.zeros(1, values.dtype), values])  # the escape's entry is unused
    elif quantizer == "grid":
        if len(parameters) != 1 or not parameters[0] > 0 or parameters[0] == float("inf"):
            r.fail("invalid grid scale")
        values = np.array([unzigzag(s) / parameters[0] for s in alphabet]).astype(np.float32 if float32 else np.float64)
    else:
        if any(s >= len(parameters) for s in alphabet):
            r.fail("codebook index out of range")
        values = np.array([parameters[s] for s in alphabet]).astype(np.float32 if float32 else np.float64)
    tables = r.varint() if rans else 0
    if rans and (tables == 0 or tables * a > r.remaining()):
        r.fail(f"invalid frequency table count {tables}")
    freq_tables = []
    for k in range(tables):
        freq = [r.varint() for _ in range(a)]
        try:
            freq_tables.append(FrequencyTable(freq, precision))
        except DecodeError as e:
            r.fail(f"frequency table {k}: {e}")

    count = r.varint()
    if count != n:
        r.fail(f"symbol count {count} differs from the shape's {n}")
    block_symbols = r.varint()
    if not 1 <= block_symbols <= 1 << 24:
        r.fail("invalid block size")
    blocks = -(-count // block_symbols)
    if tables > blocks:
        r.fail(f"{tables} frequency tables for {blocks} blocks")
    block_min = 32 if rans else 4  # the coder's final state
    if blocks * (block_min + 1) > r.remaining():
        r.fail("jump table larger than the section")
    sizes = [r.varint() for _ in range(blocks)]
    if any(s < block_min or rans and (s - 32) % 4 for s in sizes):
        r.fail("a block has an impossible length")
    block_table = [r.varint() for _ in range(blocks)] if tables > 1 else [0] * blocks
    if rans and any(k >= tables for k in block_table):
        r.fail("a block names a missing frequency table")
    block_length = [min(block_symbols, count - b * block_symbols) for b in range(blocks)]
    escape_counts, escapes = [0] * blocks, np.zeros(0)
    if escape:
        escape_counts = [r.varint() for _ in range(blocks)]
        if any(c > block_length[b] for b, c in enumerate(escape_counts)):
            r.fail("a block claims more escaped elements than it holds")
        escapes = r.values(sum(escape_counts), float32, "escaped value")
    row_length = n // shape[0]  # elements per row: the dims after the first
    if gains:  # G rows per group, one gain per group
        gain_rows = r.varint()
        if not 1 <= gain_rows <= shape[0]:
            r.fail(f"invalid rows per gain group {gain_rows}")
        group_gains = r.values(-(-shape[0] // gain_rows), float32, "row-group gain").astype(np.float64)
        if not np.all(group_gains > 0):
            r.fail("a row-group gain is not positive")
    if centered:  # one mean per position within a row
        column_means = r.values(row_length, float32, "column mean").astype(np.float64)
    payload = [r.bytes(s) for s in sizes]
    if r.remaining():
        r.fail(f"{r.remaining()} unexpected bytes after the payload")

    # Decode: each symbol's value, escaped elements from the escape list in element order.
    out = np.empty(n, dtype=np.float32 if float32 else np.float64)
    next_escape = 0
    for b in range(blocks):
        where = f"{r.where}: block {b}"
        begin = b * block_symbols
        if rans:
            idx = rans_decode(payload[b], freq_tables[block_table[b]], block_length[b], where)
        else:
            idx = context_decode(payload[b], a, row_length, begin % row_length, block_length[b], where)
        out[begin:begin + block_length[b]] = values[idx]
        if gains:  # value x its row group's gain, the product in binary64, rounded to the dtype
            group = (begin + np.arange(block_length[b])) // (gain_rows * row_length)
            out[begin:begin + block_length[b]] = values[idx].astype(np.float64) * group_gains[group]
        if escape:
            at = np.flatnonzero(idx == 0)
            if len(at) != escape_counts[b]:
                raise DecodeError(f"{where}: {len(at)} escape symbols, {escape_counts[b]} escaped values")
            out[begin + at] = escapes[next_escape:next_escape + len(at)]
            next_escape += len(at)
        if centered:  # every value + its column's mean, the sum in binary64, rounded to the dtype
            column = (begin + np.arange(block_length[b])) % row_length
            out[begin:begin + block_length[b]] = out[begin:begin + block_length[b]].astype(np.float64) + column_means[column]
    return name, mean_path or f"{name}/mean", out.reshape(shape)


def read_vocabulary(r):
    words = r.varint()
    raw = r.varint()
    packed = r.bytes(r.remaining())
    if raw > 1024 * len(packed) or words > raw:
        r.fail("invalid vocabulary stream")
    try:
        text = lzma.decompress(packed, format=lzma.FORMAT_XZ)
    except lzma.LZMAError as e:
        r.fail(f"vocabulary does not decompress: {e}")
    if len(text) != raw:
        r.fail(f"vocabulary decompresses to {len(text)} bytes, not {raw}")
    wr = Reader(text, "vocabulary")
    vocab = [wr.str("word") for _ in range(words)]
    if wr.remaining():
        wr.fail("trailing bytes")
    return vocab


def decode(data):
    """{tensor name: array}, vocabulary words, {tensor name: HDF5 path of its means}."""
    r = Reader(data, "header")
    if data[:4] != MAGIC:
        raise DecodeError("not a .vbq container (bad magic number)")
    if len(data) < 16:
        r.fail("truncated header")
    major, minor = data[4], data[5]
    if major != MAJOR:
        raise DecodeError(f"container version {major}.{minor} is not 4.x: this decoder reads 4.x only "
                          "(before 4.0 the values come from F^-1 of the prior, which the file does not carry; "
                          "decode it with `vbq decompress`)")
    r.pos = 6
    flags, tensor_count, crc = r.fixed(2), r.fixed(4), r.fixed(4)
    if crc != crc32c(data[:12]):
        r.fail("header CRC-32C mismatch")
    if flags & ~1:
        r.fail("reserved flag bits set")
    if tensor_count == 0:
        r.fail("no tensors")
    tensors, paths = {}, {}
    for i in range(tensor_count):
        name, paths[name], values = read_tensor(r.section(f"tensor section {i}"))
        if name in tensors:
            raise DecodeError(f"two tensors named '{name}'")
        tensors[name] = values
    vocab = read_vocabulary(r.section("vocabulary section")) if flags & 1 else []
    r.where = "end of file"
    if r.remaining():
        r.fail(f"{r.remaining()} unexpected trailing bytes")
    return tensors, vocab, paths


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    vocab_path = None
    if "--vocab" in argv:
        i = argv.index("--vocab")
        vocab_path = argv[i + 1] if i + 1 < len(argv) else None
        args = [a for a in args if a != vocab_path]
    if len(args) != 2 or ("--vocab" in argv and vocab_path is None):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 1
    source, target = args
    try:
        with open(source, "rb") as f:
            tensors, vocab, _ = decode(f.read())
    except (OSError, DecodeError, UnicodeDecodeError) as e:
        print(f"reference_decoder: {source}: {e}", file=sys.stderr)
        return 1
    with open(target, "wb") as f:
        np.savez(f, **tensors)
    if vocab_path:
        with open(vocab_path, "w", encoding="utf-8") as f:
            f.write("".join(w + "\n" for w in vocab))
    print(f"{source} -> {target}: {len(tensors)} tensor(s), {len(vocab)} vocabulary words", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
