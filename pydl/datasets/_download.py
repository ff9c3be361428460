"""Finding dataset files locally, or downloading them with a progress bar and checksums.

The one place pydl touches the network. Lookup order for a dataset ``name``:

1. ``path=`` passed to ``load_data`` (must hold the files; nothing is downloaded there);
2. ``$PYDL_DATA/<name>/`` when the ``PYDL_DATA`` environment variable is set and the
   folder holds every file;
3. ``~/.pydl/datasets/<name>/`` (the cache); missing files are downloaded into it from the
   mirrors in order, each checked against its MD5 (and SHA-256 when known).

Tests simulate being offline or a corrupted mirror by replacing the module attribute
:data:`urlopen` (``monkeypatch.setattr(_download, "urlopen", fake)``), or by passing
``opener=`` to :func:`fetch`.
"""

import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# Looked up at call time, so tests can replace it (see the module docstring).
urlopen = urllib.request.urlopen

_CHUNK = 1 << 16


class DownloadError(OSError):
    """A dataset file could not be downloaded (offline, mirror down, ...)."""


class ChecksumError(DownloadError):
    """A downloaded file does not match its published checksum (it was deleted)."""


def data_home():
    """The download cache, ``~/.pydl/datasets`` (resolved at call time)."""
    return Path(os.path.expanduser("~")) / ".pydl" / "datasets"


def find_file(folder, fname):
    """``folder/fname``, or the same file stored uncompressed (name without ``.gz``)."""
    folder = Path(folder)
    for candidate in (fname, fname[:-3] if fname.endswith(".gz") else None):
        if candidate and (folder / candidate).is_file():
            return folder / candidate
    return None


def resolve_dataset(name, files, mirrors, path=None, progress=True):
    """Return ``{fname: Path}`` for every file of a dataset, downloading what is missing.

    files: ``{fname: {"md5": hex, "sha256": hex or None}}``; mirrors: base URLs ending in '/'.
    """
    if path is not None:
        folder = Path(path).expanduser()
        found = {f: find_file(folder, f) for f in files}
        missing = [f for f, p in found.items() if p is None]
        if missing:
            raise FileNotFoundError(
                f"{name}: {folder} lacks {', '.join(missing)}. Put the files there, or call "
                f"load_data() without path= to use $PYDL_DATA/{name}/ or the download cache "
                f"{data_home() / name}/."
            )
        return found

    env = os.environ.get("PYDL_DATA")
    if env:
        found = {f: find_file(Path(env) / name, f) for f in files}
        if all(p is not None for p in found.values()):
            return found

    cache = data_home() / name
    found = {f: find_file(cache, f) for f in files}
    missing = [f for f, p in found.items() if p is None]
    if not missing:
        return found
    cache.mkdir(parents=True, exist_ok=True)
    failures = []
    for fname in missing:
        try:
            found[fname] = fetch_from_mirrors(fname, mirrors, cache, progress=progress, **files[fname])
        except DownloadError as e:
            failures.append((fname, e))
    if failures:
        kind = ChecksumError if all(isinstance(e, ChecksumError) for _, e in failures) else DownloadError
        raise kind(_offline_message(name, files, mirrors, cache, failures)) from failures[0][1]
    return found


def fetch_from_mirrors(fname, mirrors, folder, md5=None, sha256=None, progress=True):
    """Download ``fname`` into ``folder`` from the first mirror that serves the right bytes."""
    errors = []
    for base in mirrors:
        try:
            return fetch(base + fname, Path(folder) / fname, md5=md5, sha256=sha256, progress=progress)
        except (DownloadError, OSError, ValueError) as e:
            # urllib raises URLError/HTTPError (OSError subclasses), socket timeouts
            # (OSError) and ValueError for malformed URLs.
            errors.append(e)
    reasons = "; ".join(str(e) for e in errors) or "no mirrors given"
    kind = ChecksumError if errors and all(isinstance(e, ChecksumError) for e in errors) else DownloadError
    raise kind(reasons)


def fetch(url, dest, md5=None, sha256=None, progress=True, timeout=60, opener=None):
    """Download ``url`` to ``dest`` and verify its checksums; return ``dest``.

    The bytes go to ``dest + '.part'`` first and are renamed only once verified, so an
    interrupted or corrupted download never leaves a file that looks complete.
    """
    opener = urlopen if opener is None else opener
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    hashes = {"md5": hashlib.md5(), "sha256": hashlib.sha256()}
    try:
        with opener(url, timeout=timeout) as response, open(part, "wb") as out:
            bar = _progress_bar(_content_length(response), dest.name) if progress else None
            try:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    for h in hashes.values():
                        h.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        for algo, expected in (("md5", md5), ("sha256", sha256)):
            got = hashes[algo].hexdigest()
            if expected and got != expected.lower():
                raise ChecksumError(
                    f"{url}: {algo.upper()} {got} does not match the published {expected}; "
                    "the download was corrupted or the mirror serves another file (discarded)"
                )
        os.replace(part, dest)
    except urllib.error.URLError as e:
        raise DownloadError(f"{url}: {e.reason}") from e
    finally:
        if part.exists():
            part.unlink()
    return dest


def _content_length(response):
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _offline_message(name, files, mirrors, cache, failures):
    lines = [f"Could not download the {name} dataset (offline, or the mirrors failed):"]
    lines += [f"  {fname}: {err}" for fname, err in failures]
    lines.append("To use it without a network, put these files")
    lines += [f"    {fname}  (MD5 {files[fname]['md5']})" for fname in files]
    lines.append(f"into {cache}/")
    lines.append(
        f"or into $PYDL_DATA/{name}/ (set the PYDL_DATA environment variable to the folder "
        f"that holds {name}/), or pass load_data(path='folder that holds them')."
    )
    lines.append("They are published at: " + ", ".join(mirrors))
    return "\n".join(lines)


def _progress_bar(total, desc):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainProgress(total, desc)
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc)


class _PlainProgress:
    """A one-line progress report on stderr, for when tqdm is not installed."""

    def __init__(self, total, desc, stream=None):
        self.total, self.desc, self.done = total, desc, 0
        self.stream = sys.stderr if stream is None else stream
        self._last = 0.0

    def update(self, n):
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.1:  # redraw at most ten times a second
            self._last = now
            self._draw()

    def close(self):
        self._draw()
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self):
        mb = self.done / 1e6
        if self.total:
            pct = 100.0 * self.done / self.total
            text = f"\rDownloading {self.desc}: {mb:.1f}/{self.total / 1e6:.1f} MB ({pct:3.0f}%)"
        else:
            text = f"\rDownloading {self.desc}: {mb:.1f} MB"
        self.stream.write(text)
        self.stream.flush()
