"""pydl.datasets: the IDX reader, MNIST / Fashion-MNIST loading and downloading, digits.

Nothing here touches the network: downloads go through a replaced ``_download.urlopen``.
The real-MNIST tests read ``$PYDL_DATA/mnist/`` and skip, naming what is missing, without it.
"""

import gzip
import hashlib
import io
import os
import struct
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from pydl.datasets import (ChecksumError, DownloadError, IDXFormatError, _download, _idx, digits,
                           fashion_mnist, mnist)

MNIST_FILES = tuple(mnist.FILES)


# -- helpers -----------------------------------------------------------------------------

def idx_bytes(arr, magic=None):
    """Encode ``arr`` as IDX (big-endian payload); ``magic`` overrides the header's magic."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    arr = np.asarray(arr)
    if magic is None:
        magic = (codes[arr.dtype] << 8) | arr.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data, gz=True):
    path = Path(path)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def fake_mnist_bytes(n_train=5, n_test=3, seed=0):
    """The four MNIST files for a tiny fake dataset: {fname: gzipped bytes}, plus the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    return {f: gzip.compress(idx_bytes(a)) for f, a in arrays.items()}, arrays


def files_spec(blobs):
    return {f: {"md5": hashlib.md5(b).hexdigest(), "sha256": hashlib.sha256(b).hexdigest()}
            for f, b in blobs.items()}


class FakeResponse(io.BytesIO):
    """What urlopen returns, enough for _download.fetch."""

    def __init__(self, data):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A fresh home folder (so the cache is empty) and no PYDL_DATA."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("PYDL_DATA", raising=False)
    return home


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def no_network(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(_download, "urlopen", no_network)
    return calls


def serve(monkeypatch, blobs_by_name, fail_hosts=()):
    """Replace urlopen with a server of ``blobs_by_name`` (keyed by file name)."""
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        if any(h in url for h in fail_hosts):
            raise urllib.error.URLError("connection refused")
        return FakeResponse(blobs_by_name[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(_download, "urlopen", fake_urlopen)
    return calls


# -- the IDX reader ----------------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip_images_and_labels(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 2], dtype=np.uint8)
    xi = _idx.load_images(write(tmp_path / "i", idx_bytes(images), gz=gz))
    yi = _idx.load_labels(write(tmp_path / "l", idx_bytes(labels), gz=gz))
    np.testing.assert_array_equal(xi, images)
    np.testing.assert_array_equal(yi, labels)
    assert xi.dtype == np.uint8 and yi.dtype == np.uint8
    assert xi.flags.writeable and xi.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_other_dtypes_come_back_native_endian(tmp_path, dtype):
    arr = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    got = _idx.read_idx(write(tmp_path / "a.gz", idx_bytes(arr)))
    np.testing.assert_array_equal(got, arr)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative


def test_idx_magic_numbers_are_the_mnist_ones():
    assert struct.unpack(">I", idx_bytes(np.zeros((1, 2, 2), np.uint8))[:4])[0] == _idx.IMAGES_MAGIC == 2051
    assert struct.unpack(">I", idx_bytes(np.zeros(1, np.uint8))[:4])[0] == _idx.LABELS_MAGIC == 2049


def test_idx_wrong_magic_names_both_numbers(tmp_path):
    labels_file = write(tmp_path / "labels.gz", idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(IDXFormatError, match=r"magic number 2049 .*expected 2051"):
        _idx.load_images(labels_file)


def test_idx_not_an_idx_file(tmp_path):
    junk = write(tmp_path / "junk.gz", b"<html>404 Not Found</html>")
    with pytest.raises(IDXFormatError, match="not an IDX magic number"):
        _idx.read_idx(junk)


def test_idx_truncated_payload(tmp_path):
    data = idx_bytes(np.ones((4, 5, 5), np.uint8))[:-7]
    expected = r"truncated: the header says \(4, 5, 5\) \(100 payload bytes\) but only 93"
    with pytest.raises(IDXFormatError, match=expected):
        _idx.load_images(write(tmp_path / "short.gz", data))


def test_idx_truncated_header(tmp_path):
    data = idx_bytes(np.ones((4, 5, 5), np.uint8))[:9]  # magic + 1 of 3 dims + 1 byte
    with pytest.raises(IDXFormatError, match="truncated header"):
        _idx.load_images(write(tmp_path / "hdr.gz", data, gz=False))


def test_idx_empty_file(tmp_path):
    with pytest.raises(IDXFormatError, match="too short"):
        _idx.read_idx(write(tmp_path / "empty", b"", gz=False))


def test_idx_extra_bytes(tmp_path):
    data = idx_bytes(np.ones(3, np.uint8)) + b"\x00\x00"
    with pytest.raises(IDXFormatError, match="extra bytes"):
        _idx.load_labels(write(tmp_path / "long.gz", data))


def test_idx_cut_off_gzip_stream(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32).astype(np.uint8)))
    path = write(tmp_path / "cut.gz", blob[: len(blob) // 2], gz=False)
    with pytest.raises(IDXFormatError, match="gzip stream is damaged or truncated"):
        _idx.read_idx(path)


def test_idx_corrupted_gzip_bytes(tmp_path):
    rng = np.random.default_rng(0)
    blob = bytearray(gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8))))
    blob[len(blob) // 2] ^= 0xFF  # flip one byte in the deflate stream
    with pytest.raises(IDXFormatError, match=str(tmp_path / "bad.gz")):
        _idx.read_idx(write(tmp_path / "bad.gz", bytes(blob), gz=False))


# -- MNIST from $PYDL_DATA ---------------------------------------------------------------

@pytest.fixture(scope="module")
def real_mnist():
    root = os.environ.get("PYDL_DATA")
    if not root:
        pytest.skip("PYDL_DATA is not set: point it at the folder holding mnist/ (the 4 IDX .gz files)")
    folder = Path(root) / "mnist"
    missing = [f for f in MNIST_FILES if not (folder / f).is_file()]
    if missing:
        pytest.skip(f"{folder} lacks {', '.join(missing)}")
    return mnist.load_data()


def test_mnist_shapes_dtypes_and_known_labels(real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert x_train.max() == 255 and x_train.min() == 0


def test_mnist_path_argument_reads_the_same_files(real_mnist):
    (x_train, _), (_, y_test) = mnist.load_data(path=Path(os.environ["PYDL_DATA"]) / "mnist")
    np.testing.assert_array_equal(x_train, real_mnist[0][0])
    np.testing.assert_array_equal(y_test, real_mnist[1][1])


# -- lookup order: path=, $PYDL_DATA, the cache ------------------------------------------

def test_lookup_order_path_then_pydl_data_then_cache(tmp_path, isolated_home, offline, monkeypatch):
    for i, where in enumerate(["explicit", "env/mnist", "home/.pydl/datasets/mnist"]):
        folder = tmp_path / where
        folder.mkdir(parents=True)
        blobs, _ = fake_mnist_bytes(n_train=i + 1)
        for f, b in blobs.items():
            (folder / f).write_bytes(b)
    assert len(mnist.load_data()[0][0]) == 3  # only the cache: no PYDL_DATA yet
    monkeypatch.setenv("PYDL_DATA", str(tmp_path / "env"))
    assert len(mnist.load_data()[0][0]) == 2
    assert len(mnist.load_data(path=tmp_path / "explicit")[0][0]) == 1
    assert offline == []  # nothing was downloaded


def test_uncompressed_files_are_found_too(tmp_path):
    blobs, arrays = fake_mnist_bytes()
    for f, b in blobs.items():
        (tmp_path / f[:-3]).write_bytes(gzip.decompress(b))
    (x_train, y_train), _ = mnist.load_data(path=tmp_path)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])


def test_path_missing_files_names_them(tmp_path, offline):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="lacks train-labels-idx1-ubyte.gz, t10k-images"):
        mnist.load_data(path=tmp_path)
    assert offline == []  # an explicit path never downloads


def test_mismatched_image_and_label_counts(tmp_path):
    blobs, _ = fake_mnist_bytes()
    blobs["train-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.zeros(4, np.uint8)))
    for f, b in blobs.items():
        (tmp_path / f).write_bytes(b)
    with pytest.raises(IDXFormatError, match="holds 5 images but .* holds 4 labels"):
        mnist.load_data(path=tmp_path)


# -- downloading (mocked) ----------------------------------------------------------------

@pytest.mark.parametrize("module", [mnist, fashion_mnist], ids=["mnist", "fashion_mnist"])
def test_offline_error_says_which_files_to_put_where(module, isolated_home, offline):
    with pytest.raises(DownloadError) as info:
        module.load_data()
    message = str(info.value)
    cache = isolated_home / ".pydl" / "datasets" / module.NAME
    assert f"into {cache}/" in message
    assert f"$PYDL_DATA/{module.NAME}/" in message and "PYDL_DATA environment variable" in message
    for fname, sums in module.FILES.items():
        assert fname in message and sums["md5"] in message
    assert "Temporary failure in name resolution" in message
    assert len(offline) == 4 * len(module.MIRRORS)  # every mirror tried for every file
    assert not any(cache.iterdir())  # no partial files left behind


def test_pydl_data_without_the_dataset_falls_through_to_download(tmp_path, isolated_home, offline, monkeypatch):
    monkeypatch.setenv("PYDL_DATA", str(tmp_path))  # holds no fashion_mnist/
    with pytest.raises(DownloadError, match="fashion_mnist"):
        fashion_mnist.load_data()
    assert len(offline) > 0


def test_checksum_mismatch_is_rejected(isolated_home, monkeypatch):
    blobs, _ = fake_mnist_bytes()  # valid IDX files, but not the published ones
    calls = serve(monkeypatch, blobs)
    expected = r"MD5 [0-9a-f]{32} does not match the published f68b3c2dcbeaaa9fbdd348bbdeb94873"
    with pytest.raises(ChecksumError, match=expected):
        mnist.load_data()
    assert len(calls) == 4 * len(mnist.MIRRORS)
    cache = isolated_home / ".pydl" / "datasets" / "mnist"
    assert sorted(cache.iterdir()) == []  # the bad bytes were deleted, no .part files either


def test_sha256_is_checked_when_md5_matches(tmp_path):
    data = b"some bytes"
    url = "http://mirror/file.gz"
    with pytest.raises(ChecksumError, match="SHA256"):
        _download.fetch(url, tmp_path / "file.gz", md5=hashlib.md5(data).hexdigest(),
                        sha256="0" * 64, progress=False, opener=lambda u, timeout: FakeResponse(data))
    assert list(tmp_path.iterdir()) == []


def test_download_uses_the_next_mirror_and_caches(isolated_home, monkeypatch, capsys):
    blobs, arrays = fake_mnist_bytes()
    monkeypatch.setattr(mnist, "FILES", files_spec(blobs))
    monkeypatch.setattr(mnist, "MIRRORS", ("http://down.example/", "http://up.example/"))
    calls = serve(monkeypatch, blobs, fail_hosts=("down.example",))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert len(calls) == 8 and sum("up.example" in c for c in calls) == 4
    cache = isolated_home / ".pydl" / "datasets" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(blobs)
    # second load: from the cache, no network
    calls.clear()
    (x_again, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_again, x_train)
    assert calls == []
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar


def test_plain_progress_line():
    out = io.StringIO()
    bar = _download._PlainProgress(total=2_000_000, desc="file.gz", stream=out)
    bar.update(1_000_000)
    bar.update(1_000_000)
    bar.close()
    assert out.getvalue().endswith("Downloading file.gz: 2.0/2.0 MB (100%)\n")


def test_plain_progress_used_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert isinstance(_download._progress_bar(10, "x"), _download._PlainProgress)


def test_published_checksums():
    assert mnist.FILES["train-images-idx3-ubyte.gz"]["md5"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert fashion_mnist.FILES["train-images-idx3-ubyte.gz"]["md5"] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert fashion_mnist.FILES["t10k-labels-idx1-ubyte.gz"]["md5"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert len(fashion_mnist.CLASS_NAMES) == 10 and fashion_mnist.CLASS_NAMES[9] == "Ankle boot"


# -- digits (scikit-learn) ---------------------------------------------------------------

def test_digits_shapes_and_values():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install scikit-learn)")
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 16 and x_train.min() == 0
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))


def test_digits_split_is_seeded():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install scikit-learn)")
    (a, ya), _ = digits.load_data(seed=3)
    (b, yb), _ = digits.load_data(seed=3)
    (c, _), _ = digits.load_data(seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.5)
    assert len(x_test) == 899 and len(x_train) == 898  # ceil(0.5 * 1797) test images


def test_digits_bad_split():
    with pytest.raises(ValueError, match=r"test_split must be in \[0, 1\)"):
        digits.load_data(test_split=1.0)


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install scikit-learn \(or pip install pydl\[datasets\]\)"):
        digits.load_data()
