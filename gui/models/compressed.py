"""joblib's compressed files, opened as a stream of the pickle they hold, read up to a limit.

`joblib.dump(model, path, compress=3)` writes zlib; `compress=("lz4", 3)` lz4; gzip, bz2, xz and lzma
likewise. Which one is told by the first bytes, as joblib's own `_detect_compressor` tells it
(joblib/compressor.py: `_ZLIB_PREFIX` b"\\x78", `_GZIP_PREFIX` b"\\x1f\\x8b", `_BZ2_PREFIX` b"BZ",
`_XZ_PREFIX` b"\\xfd7zXZ", `_LZMA_PREFIX` b"\\x5d\\x00", `_LZ4_PREFIX` b"\\x04\\x22\\x4d\\x18"; and
joblib/numpy_pickle_compat.py: b"ZF", the length in hex padded to 19 bytes, then zlib, for files of
joblib before 0.10). Two of those prefixes are one byte of text ("x", "BZ"): a zlib header is also
checked as RFC 1950 asks (a multiple of 31, no preset dictionary), bz2 for its "h" and block size.

picklescan (gui/models/pickles.py says why it is not the scanner) opens zip and 7z archives only, not
these streams, and joblib's own readers would unpickle. The stdlib decompresses all but lz4; lz4 is the
`lz4` package's frame reader, the one joblib itself writes with. Nothing is ever decompressed whole: the scan reads the stream and steps over arrays, and
`Capped` stops it at DECOMPRESSED_LIMIT bytes out, so a small file that inflates to terabytes (a
decompression bomb) costs seconds, not the machine's memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib

DECOMPRESSED_LIMIT = 4 << 30  # 4 GiB out of one compressed file
READ_LIMIT = 256 << 20  # one value inside the pickle (pickletools reads a bytes value whole)
_ZF_HEADER = 2 + 19  # b"ZF" and the length, hex, ljust to len(hex(2**64)) (joblib's _MAX_LEN)
_CHUNK = 1 << 20


class CompressedError(ValueError):
    """The compressed stream cannot be read to its end; the message says why, in a sentence."""


def compression(head: bytes) -> str:
    """The compression joblib used ('zlib', 'gzip', 'bz2', 'xz', 'lzma', 'lz4', 'zf'), or ''."""
    if head.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4] in b"123456789":
        return "bz2"
    if head.startswith(b"\x5d\x00"):
        return "lzma"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0 and not head[1] & 0x20:
        return "zlib"
    if head.startswith(b"ZF") and len(head) > 3 and all(c in b"0123456789abcdefx L" for c in head[2:_ZF_HEADER]):
        return "zf"
    return ""


# 'zf': what joblib.dump(..., compress=True) wrote before 0.10 (numpy_pickle_compat.write_zfile), a zlib
# stream under a header of joblib's own. No compress= option names it, so a user is told in words.
OLD_JOBLIB = "compressed by an old joblib (before 0.10)"


def described(kind: str, what: str) -> str:
    """``what`` ("joblib file") compressed with ``kind``, as a user reads it: "zlib-compressed joblib file"
    in the names joblib's compress= takes (zlib, gzip, bz2, xz, lzma, lz4: those of the tools and modules
    too), "joblib file compressed by an old joblib (before 0.10)" for 'zf'."""
    return f"{what} {OLD_JOBLIB}" if kind == "zf" else f"{kind}-compressed {what}"


def stream_name(kind: str) -> str:
    """The name messages give ``kind``'s data ("the zlib data is cut short"): a zf file holds zlib."""
    return "zlib" if kind == "zf" else kind


def open_decompressed(raw, kind: str):
    """A binary stream of what `raw` (a file open for reading at 0) holds, capped (see Capped)."""
    if kind == "gzip":
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif kind == "bz2":
        inner = bz2.BZ2File(raw, "rb")
    elif kind == "xz":
        inner = lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_XZ)  # noqa: SIM115 - raw is closed by the caller
    elif kind == "lzma":
        inner = lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_ALONE)  # noqa: SIM115 - likewise
    elif kind == "lz4":
        try:
            import lz4.frame
        except ImportError:
            raise CompressedError("it is lz4-compressed and the lz4 package is not installed "
                                  "(pip install lz4)") from None
        inner = lz4.frame.LZ4FrameFile(raw, "rb")
    elif kind == "zlib":
        inner = io.BufferedReader(_ZlibReader(raw), _CHUNK)
    elif kind == "zf":
        raw.seek(_ZF_HEADER)
        if raw.read(1) != b" ":  # joblib <= 0.8.4 wrote one more space (numpy_pickle_compat.read_zfile)
            raw.seek(_ZF_HEADER)
        inner = io.BufferedReader(_ZlibReader(raw), _CHUNK)
    else:
        raise ValueError(f"no compression {kind!r}")
    return Capped(inner, stream_name(kind))


class _ZlibReader(io.RawIOBase):
    """A zlib stream (joblib's BinaryZlibFile writes one, wbits 15), decompressed as it is read."""

    def __init__(self, raw):
        self.raw = raw
        self.d = zlib.decompressobj(zlib.MAX_WBITS)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while True:
            if self.d.eof:
                return 0
            data = self.d.unconsumed_tail or self.raw.read(_CHUNK)
            if not data:
                raise EOFError("the compressed data ends before its end marker")
            out = self.d.decompress(data, len(b))
            if out:
                b[: len(out)] = out
                return len(out)


class Capped:
    """Reads, forward skips and tells on a decompressing stream; raises CompressedError past the limits
    or when the stream is cut or damaged (each decompressor says so in its own words and type)."""

    def __init__(self, inner, kind: str, limit: int | None = None):
        self.inner, self.kind = inner, kind
        self.limit = DECOMPRESSED_LIMIT if limit is None else limit
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > READ_LIMIT:
            raise CompressedError(f"a value inside the {self.kind} stream is over {READ_LIMIT >> 20} MiB, "
                                  "more than the scan reads at once")
        self._check(n)
        data = self._guarded(self.inner.read, n)
        self.pos += len(data)
        return data

    def readline(self, n: int = -1) -> bytes:
        """A line (protocol 0 and 1 opcodes: GLOBAL, INT, STRING ...), read at most to READ_LIMIT."""
        size = READ_LIMIT if n is None or n < 0 else min(n, READ_LIMIT)
        self._check(0)
        data = self._guarded(self.inner.readline, size)
        self.pos += len(data)
        if len(data) == READ_LIMIT and not data.endswith(b"\n"):
            raise CompressedError(f"a line inside the {self.kind} stream is over {READ_LIMIT >> 20} MiB")
        return data

    def peek_end(self) -> bool:
        """True at the end of the stream (reads one byte ahead, kept for the next read)."""
        data = self._guarded(self.inner.peek, 1) if hasattr(self.inner, "peek") else b""
        return not data

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Forward only: what is skipped is decompressed and dropped, a megabyte at a time."""
        target = offset if whence == io.SEEK_SET else self.pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self.pos:
            raise io.UnsupportedOperation("a compressed stream is read forward only")
        self._check(target - self.pos)
        while self.pos < target:
            data = self._guarded(self.inner.read, min(_CHUNK, target - self.pos))
            if not data:
                raise CompressedError("the file ends inside an array")
            self.pos += len(data)
        return self.pos

    def _check(self, n: int) -> None:
        if self.pos + n > self.limit:
            raise CompressedError(f"decompressed it is over {_size(self.limit)}, the most the scan reads "
                                  "(a decompression bomb?)")

    def _guarded(self, read, n: int) -> bytes:
        try:
            return read(n)
        except CompressedError:
            raise
        except (EOFError, OSError, zlib.error, lzma.LZMAError, RuntimeError, ValueError) as exc:
            # gzip: BadGzipFile (OSError) or EOFError; bz2: OSError; lzma: LZMAError; lz4: RuntimeError;
            # zlib: zlib.error
            raise CompressedError(f"the {self.kind} data is cut short or damaged ({exc})") from None


def _size(n: int) -> str:
    return f"{n / (1 << 30):g} GiB" if n >= (1 << 30) else f"{n / (1 << 20):g} MiB"
