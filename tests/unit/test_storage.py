"""File storage: every behaviour runs against the local directory and against S3 (moto).

The S3 cases talk to moto's server on loopback, started once for the session, with a fresh
bucket per test. Without moto installed they are skipped, and pytest -ra prints why.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.utils import send_file

from portal import clock
from portal.documents import storage as storage_module
from portal.documents.storage import (
    CHUNK_SIZE,
    PART_SIZE,
    EmptyFile,
    FileMissing,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    TooLarge,
    new_key,
    storage_from_url,
)

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "eu-west-1"}
MB = 1024 * 1024


class Generated(io.RawIOBase):
    """A stream of `total` bytes made up as they are read, so no test holds a big file.

    With fail_after, reading past that many bytes raises OSError, like a dropped connection.
    """

    _PATTERN = hashlib.sha256(b"pattern").digest() * (CHUNK_SIZE // 32)

    def __init__(self, total: int, fail_after: int | None = None) -> None:
        self.total = total
        self.fail_after = fail_after
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self.fail_after is not None and self.delivered >= self.fail_after:
            raise OSError("connection reset by peer")
        count = min(len(buffer), self.total - self.delivered, len(self._PATTERN))
        offset = self.delivered % len(self._PATTERN)
        piece = (self._PATTERN[offset:] + self._PATTERN[:offset])[:count]
        buffer[:count] = piece
        self.delivered += count
        return count

    @classmethod
    def sha256_of(cls, total: int) -> str:
        digest = hashlib.sha256()
        stream = cls(total)
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
        return digest.hexdigest()


# --- Backends -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("S3 backend not tested: moto is not installed (pip install 'moto[server]')")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    endpoint = request.getfixturevalue("s3_endpoint")
    s3 = S3Storage(f"portal-{uuid.uuid4().hex[:12]}", "files", endpoint_url=endpoint,
                   **CREDENTIALS)
    s3.client.create_bucket(
        Bucket=s3.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return s3


def leftovers(storage: Storage) -> list[str]:
    """Everything the backend holds: files and temporaries, objects and open uploads."""
    if isinstance(storage, LocalStorage):
        return [str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file()]
    assert isinstance(storage, S3Storage)
    objects = storage.client.list_objects_v2(Bucket=storage.bucket).get("Contents", [])
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    return [o["Key"] for o in objects] + [f"upload of {u['Key']}" for u in uploads]


def abandon_an_upload(storage: Storage) -> None:
    """What a process killed in the middle of put() leaves behind."""
    key = new_key()
    if isinstance(storage, LocalStorage):
        folder = storage.root / key[:2] / key[2:4]
        folder.mkdir(parents=True)
        half = folder / f"{storage_module.TEMP_PREFIX}abandoned"
        half.write_bytes(b"half a file")
        written = clock.now().timestamp()  # last written now, on the clock the test runs by
        os.utime(half, (written, written))
    else:
        assert isinstance(storage, S3Storage)
        storage.client.create_multipart_upload(Bucket=storage.bucket, Key=storage.prefix + key)


def png() -> bytes:
    """A valid 1x1 grey PNG, built here so the test needs no fixture files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


# --- Storing and reading back ---------------------------------------------------------------


@pytest.mark.parametrize("size", [200_000, 2 * PART_SIZE + 12_345], ids=["small", "multipart"])
def test_stored_file_reads_back_with_its_size_and_sha256(storage: Storage, size: int) -> None:
    data = os.urandom(size)

    stored = storage.put(io.BytesIO(data))

    assert stored.size == size
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert storage.exists(stored.key)
    assert storage.size(stored.key) == size
    with storage.open(stored.key) as file:
        assert file.read() == data


def test_each_upload_gets_its_own_key(storage: Storage) -> None:
    first = storage.put(io.BytesIO(b"same bytes"))
    second = storage.put(io.BytesIO(b"same bytes"))

    assert first.key != second.key
    assert first.sha256 == second.sha256
    storage.delete(first.key)
    with storage.open(second.key) as file:
        assert file.read() == b"same bytes"


def test_pdf_is_recognised_by_its_content(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(PDF))

    assert (stored.mime, stored.extension) == ("application/pdf", "pdf")


def test_png_is_recognised_by_its_content(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(png()))

    assert (stored.mime, stored.extension) == ("image/png", "png")


def test_unrecognised_content_has_no_type(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(b"Geachte klant, hierbij de jaarstukken.\n"))

    assert (stored.mime, stored.extension) == (None, None)


# --- Refused uploads leave nothing behind ---------------------------------------------------


def test_empty_upload_is_refused_and_leaves_nothing_behind(storage: Storage) -> None:
    with pytest.raises(EmptyFile):
        storage.put(io.BytesIO(b""))

    assert leftovers(storage) == []


@pytest.mark.parametrize(
    ("total", "limit"),
    [(5_000, 1_000), (3 * PART_SIZE, PART_SIZE + 1 * MB)],
    ids=["within-one-part", "after-a-part-was-uploaded"],
)
def test_too_large_upload_is_stopped_and_leaves_nothing_behind(
    storage: Storage, total: int, limit: int
) -> None:
    stream = Generated(total)

    with pytest.raises(TooLarge) as refused:
        storage.put(stream, max_bytes=limit)

    assert refused.value.max_bytes == limit
    assert stream.delivered <= limit + CHUNK_SIZE  # stopped there, not read to the end
    assert leftovers(storage) == []


def test_upload_of_exactly_the_limit_is_accepted(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(b"x" * 1_000), max_bytes=1_000)

    assert stored.size == 1_000


def test_upload_broken_off_midway_leaves_nothing_behind(storage: Storage) -> None:
    # Past the first S3 part, so a multipart upload is open when the stream fails.
    stream = Generated(3 * PART_SIZE, fail_after=PART_SIZE + 2 * MB)

    with pytest.raises(OSError, match="connection reset"):
        storage.put(stream)

    assert leftovers(storage) == []


def test_storage_errors_share_one_base_class() -> None:
    assert issubclass(EmptyFile, StorageError)
    assert issubclass(TooLarge, StorageError)
    assert issubclass(FileMissing, StorageError)


# --- Keys -----------------------------------------------------------------------------------

NOT_KEYS = [
    "../../etc/passwd",
    "/etc/passwd",
    "ab/cd/" + "a" * 32,
    "../" + "a" * 29,
    "A" * 32,
    "a" * 31,
    "a" * 32 + "\n",
    "",
]


@pytest.mark.parametrize("key", NOT_KEYS)
def test_keys_storage_did_not_make_are_refused(storage: Storage, key: str, tmp_path) -> None:
    outside = tmp_path / "passwd"
    outside.write_bytes(b"root:x:0:0")

    for action in (storage.open, storage.size, storage.delete):
        with pytest.raises(FileMissing):
            action(key)
    assert storage.exists(key) is False
    assert outside.read_bytes() == b"root:x:0:0"


def test_opening_a_missing_key_raises_file_missing(storage: Storage) -> None:
    key = new_key()

    with pytest.raises(FileMissing):
        storage.open(key)
    with pytest.raises(FileMissing):
        storage.size(key)
    assert storage.exists(key) is False


def test_deleting_twice_is_fine(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(PDF))

    storage.delete(stored.key)
    storage.delete(stored.key)

    assert storage.exists(stored.key) is False
    with pytest.raises(FileMissing):
        storage.open(stored.key)
    assert leftovers(storage) == []


# --- Reading ranges -------------------------------------------------------------------------


def test_seek_and_partial_read_return_the_requested_bytes(storage: Storage) -> None:
    data = os.urandom(3 * MB)
    stored = storage.put(io.BytesIO(data))

    with storage.open(stored.key) as file:
        assert file.seekable()
        file.seek(1_500_000)
        assert file.read(100) == data[1_500_000:1_500_100]
        assert file.tell() == 1_500_100
        file.seek(-10, io.SEEK_END)
        assert file.read() == data[-10:]
        file.seek(5)
        assert file.read(3) == data[5:8]
        file.seek(len(data) + 10)
        assert file.read(10) == b""


def test_werkzeug_answers_a_range_request_from_the_opened_file(storage: Storage) -> None:
    data = os.urandom(3 * MB)
    stored = storage.put(io.BytesIO(data))
    environ = EnvironBuilder(headers={"Range": "bytes=2000000-2000099"}).get_environ()

    # send_file cannot learn the size of a file object, so the caller supplies it.
    with storage.open(stored.key) as file:
        response = send_file(file, environ, mimetype="application/octet-stream",
                             conditional=False)
        response.content_length = stored.size
        response.make_conditional(environ, accept_ranges=True, complete_length=stored.size)
        body = b"".join(response.response)

    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 2000000-2000099/{len(data)}"
    assert body == data[2_000_000:2_000_100]


# --- Sweeping -------------------------------------------------------------------------------


def test_sweep_deletes_only_unreferenced_files_older_than_the_grace_time(
    storage: Storage,
) -> None:
    old_referenced = storage.put(io.BytesIO(b"in a row"))
    old_orphan = storage.put(io.BytesIO(b"row never committed"))
    time.sleep(1.1)  # S3 keeps LastModified to the second
    cutoff = clock.now().replace(microsecond=0)
    recent_orphan = storage.put(io.BytesIO(b"row not committed yet"))
    asked: list[set[str]] = []

    def is_referenced(keys: set[str]) -> set[str]:
        asked.append(set(keys))
        return keys & {old_referenced.key}

    deleted = storage.sweep(is_referenced, older_than=cutoff)

    assert deleted == 1
    assert not storage.exists(old_orphan.key)
    assert storage.exists(old_referenced.key)
    assert storage.exists(recent_orphan.key)
    assert set().union(*asked) == {old_referenced.key, old_orphan.key}


def test_sweep_asks_about_keys_in_batches(storage: Storage, monkeypatch) -> None:
    monkeypatch.setattr(storage_module, "SWEEP_BATCH", 2)
    keys = {storage.put(io.BytesIO(f"file {n}".encode())).key for n in range(5)}
    asked: list[set[str]] = []

    def nothing_referenced(batch: set[str]) -> set[str]:
        asked.append(set(batch))
        return set()

    deleted = storage.sweep(nothing_referenced, older_than=clock.now() + timedelta(hours=1))

    assert deleted == 5
    assert all(len(batch) <= 2 for batch in asked)
    assert set().union(*asked) == keys
    assert leftovers(storage) == []


def test_sweep_removes_abandoned_uploads_older_than_the_grace_time(storage: Storage) -> None:
    abandon_an_upload(storage)

    deleted = storage.sweep(lambda keys: keys, older_than=clock.now() + timedelta(hours=1))

    assert leftovers(storage) == []
    assert deleted == 0  # only stored files are counted


def test_sweep_keeps_recent_uploads_that_may_still_be_running(storage: Storage) -> None:
    if isinstance(storage, S3Storage):
        pytest.skip("moto reports every multipart upload as initiated in 2010")
    abandon_an_upload(storage)

    storage.sweep(lambda keys: keys, older_than=clock.now() - timedelta(hours=1))

    assert len(leftovers(storage)) == 1


def test_sweep_refuses_a_naive_cutoff(storage: Storage) -> None:
    with pytest.raises(ValueError, match="aware"):
        storage.sweep(lambda keys: keys, older_than=clock.now().replace(tzinfo=None))


# --- Memory ---------------------------------------------------------------------------------

MEMORY_PROBE = """
import sys, tracemalloc
from portal.documents.storage import storage_from_url
from tests.unit.test_storage import CREDENTIALS, Generated
url, endpoint, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = dict(CREDENTIALS, endpoint_url=endpoint) if endpoint else {}
storage = storage_from_url(url, **options)
tracemalloc.start()
stored = storage.put(Generated(total))
print(tracemalloc.get_traced_memory()[1], stored.size, stored.sha256)
"""


def test_memory_stays_flat_while_a_large_file_streams_in(storage: Storage) -> None:
    # In a child process: moto's in-process server would count its own copy of the file.
    total = 50 * 1000 * 1000
    if isinstance(storage, LocalStorage):
        url, endpoint, budget = f"file://{storage.root}", "", 5 * MB
    else:
        assert isinstance(storage, S3Storage)
        url, endpoint = f"s3://{storage.bucket}/{storage.prefix}", storage.client.meta.endpoint_url
        budget = 30 * MB

    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, url, endpoint, str(total)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )

    assert probe.returncode == 0, probe.stderr
    peak, size, sha = probe.stdout.split()
    assert (int(size), sha) == (total, Generated.sha256_of(total))
    assert int(peak) < budget, f"peak {int(peak) / MB:.1f} MiB"


# --- Local directory specifics --------------------------------------------------------------


def test_local_files_are_sharded_and_readable_only_by_the_owner(tmp_path: Path) -> None:
    local = LocalStorage(tmp_path)

    stored = local.put(io.BytesIO(PDF))

    path = tmp_path / stored.key[:2] / stored.key[2:4] / stored.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_local_upload_is_fsynced_before_and_after_the_rename(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))

    LocalStorage(tmp_path).put(io.BytesIO(PDF))

    assert len(synced) == 2  # the file's bytes, then the directory entry


# --- Configuration --------------------------------------------------------------------------


def test_file_url_gives_local_storage_in_that_directory(tmp_path: Path) -> None:
    chosen = storage_from_url(f"file://{tmp_path}/files", endpoint_url=None)

    assert isinstance(chosen, LocalStorage)
    assert chosen.root == tmp_path / "files"


def test_s3_url_gives_s3_storage_with_bucket_and_prefix() -> None:
    chosen = storage_from_url("s3://portal-files/practices/docs/", endpoint_url="http://127.0.0.1:9",
                              **CREDENTIALS)

    assert isinstance(chosen, S3Storage)
    assert (chosen.bucket, chosen.prefix) == ("portal-files", "practices/docs/")
    assert chosen.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert chosen.client.meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://relative/files", "absolute"),
        ("file:relative", "absolute"),
        ("s3:///no-bucket", "needs a bucket"),
        ("https://example.com/files", "not supported"),
        ("/var/lib/portal/files", "not supported"),
    ],
)
def test_unusable_storage_url_is_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        storage_from_url(url)


def test_misspelt_storage_option_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown storage option"):
        storage_from_url("s3://portal-files", endpoint="http://127.0.0.1:9")


def test_an_upload_being_written_survives_a_sweep_whatever_the_system_clock_says(
        tmp_path: Path) -> None:
    """The system stamps a file it is writing with its own time; the sweep judges a
    temporary file by the portal clock's moment in its name."""
    storage = LocalStorage(tmp_path)
    folder = tmp_path / "ab" / "cd"
    folder.mkdir(parents=True)
    clock.freeze(clock.now() + timedelta(days=400))  # the portal's clock far ahead
    try:
        writing = folder / f"{storage_module.temp_prefix()}x1y2"
        writing.write_bytes(b"half")  # mtime: the system's time, 400 days behind
        storage.sweep(lambda keys: set(), clock.now() - timedelta(hours=1))
        assert writing.exists()
        storage.sweep(lambda keys: set(), clock.now() + timedelta(hours=1))
        assert not writing.exists()  # once older than the grace, it is a leftover
    finally:
        clock.freeze(None)
