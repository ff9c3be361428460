"""Reader for the IDX format that MNIST and Fashion-MNIST are distributed in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
values in row-major order::

    magic = 0x00 0x00 <dtype code> <number of dimensions>
    dims  = ndim x uint32 (big-endian)
    data  = prod(dims) values of that dtype (big-endian)

MNIST images have magic 2051 (0x00000803: uint8, 3 dims: count, rows, cols) and labels
magic 2049 (0x00000801: uint8, 1 dim: count). Files may be gzipped (detected from the
content, not the name). Every way a file can be wrong (bad magic, short header, short or
long payload, damaged gzip stream) raises :class:`IDXFormatError` naming the file.
"""

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# IDX dtype codes (third magic byte); multi-byte values are big-endian.
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MAGIC_NAMES = {IMAGES_MAGIC: "uint8 images (count, rows, cols)", LABELS_MAGIC: "uint8 labels (count,)"}

# A header claiming more than this is corrupt, not a dataset we could hold in memory.
_MAX_PAYLOAD_BYTES = 1 << 36


class IDXFormatError(ValueError):
    """The file is not a well-formed IDX file (or not the kind that was asked for)."""


def read_idx(path, expected_magic=None):
    """Read an IDX file (gzipped or not) into a native-endian NumPy array.

    ``expected_magic`` (e.g. :data:`IMAGES_MAGIC`) makes a file of another kind an error.
    The returned array is writable and owns its memory.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            return _parse(f, path, expected_magic)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        # EOFError: the gzip stream stops early (a cut-off download); zlib.error and
        # BadGzipFile: damaged bytes or a failed CRC check.
        raise IDXFormatError(
            f"{path}: the gzip stream is damaged or truncated ({e}); "
            "delete the file and download it again"
        ) from e


def load_images(path):
    """Read an IDX image file (magic 2051): uint8 array (count, rows, cols)."""
    return read_idx(path, expected_magic=IMAGES_MAGIC)


def load_labels(path):
    """Read an IDX label file (magic 2049): uint8 array (count,)."""
    return read_idx(path, expected_magic=LABELS_MAGIC)


def _parse(f, path, expected_magic):
    head = _read_exact(f, 4)
    if len(head) < 4:
        raise IDXFormatError(f"{path}: {len(head)} bytes, too short for an IDX header (4 bytes)")
    magic = int.from_bytes(head, "big")
    if expected_magic is not None and magic != expected_magic:
        what = _MAGIC_NAMES.get(expected_magic, "")
        raise IDXFormatError(
            f"{path}: magic number {magic} (0x{magic:08X}), expected {expected_magic} "
            f"(0x{expected_magic:08X}, {what}); is this the right file?"
        )
    code, ndim = head[2], head[3]
    if head[:2] != b"\x00\x00" or code not in _DTYPES or ndim == 0:
        raise IDXFormatError(f"{path}: magic number {magic} (0x{magic:08X}) is not an IDX magic number")

    dims_bytes = _read_exact(f, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise IDXFormatError(
            f"{path}: truncated header: {ndim} dimensions need {4 * ndim} bytes, "
            f"only {len(dims_bytes)} follow the magic number"
        )
    dims = struct.unpack(f">{ndim}I", dims_bytes)
    dtype = _DTYPES[code]
    nbytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if nbytes > _MAX_PAYLOAD_BYTES:
        raise IDXFormatError(f"{path}: header claims dimensions {dims} ({nbytes} bytes); corrupt header?")

    # Read straight into the array's memory: one copy, and the result is writable.
    payload = np.empty(nbytes, dtype=np.uint8)
    got = _readinto_exact(f, memoryview(payload))
    if got < nbytes:
        raise IDXFormatError(
            f"{path}: truncated: the header says {dims} ({nbytes} payload bytes) "
            f"but only {got} bytes follow"
        )
    if f.read(1):
        raise IDXFormatError(
            f"{path}: extra bytes after the {nbytes} payload bytes that the header "
            f"{dims} describes; corrupt file?"
        )
    arr = payload.view(dtype).reshape(dims)
    if dtype.byteorder == ">":
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def _read_exact(f, n):
    """Read up to n bytes, looping over short reads; fewer only at end of file."""
    chunks, got = [], 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _readinto_exact(f, view):
    """Fill ``view`` from f, looping over short reads; returns the bytes filled."""
    got, n = 0, len(view)
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            break
        got += k
    return got
