"""Where uploaded files live: a local directory or S3-compatible object storage.

Files are stored under random keys and are never overwritten, so a key in a database row
always means the same bytes. An upload is counted, hashed (SHA-256) and sniffed while it
streams in, and only becomes visible under its key once it is complete: a refused or
broken upload leaves nothing behind. Files no row points to are removed by sweep().
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast
from urllib.parse import unquote, urlsplit

import boto3
import filetype
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portal import clock

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
SNIFF_SIZE = 8192  # filetype looks at most at this many leading bytes
PART_SIZE = 8 * 1024 * 1024  # S3 wants parts of at least 5 MiB, except the last
READ_BUFFER_SIZE = 1024 * 1024  # one ranged GET per MiB when a download is read sequentially
SWEEP_BATCH = 1000  # also the most keys one S3 DeleteObjects call takes
TEMP_PREFIX = ".upload-"


def temp_prefix() -> str:
    """A temporary file's name says when, on the portal clock, its writing began: while it is
    written the system sets its mtime, which need not be the portal's clock."""
    return f"{TEMP_PREFIX}{int(clock.now().timestamp())}."


def _temp_started(name: str, entry: os.DirEntry[str]) -> float:
    started, dot, _ = name.removeprefix(TEMP_PREFIX).partition(".")
    if dot and started.isdigit():
        return float(started)
    return entry.stat(follow_symlinks=False).st_mtime  # a name from before the stamp

_KEY = re.compile(r"[0-9a-f]{32}")


class StorageError(Exception):
    """A file could not be stored or found.

    Subclasses are named after the domain (as STYLE.md asks), hence the noqa for N818.
    """


class EmptyFile(StorageError):
    """The upload had no bytes; an empty document is always a mistake."""

    def __init__(self) -> None:
        super().__init__("the file is empty")


class TooLarge(StorageError):
    """The upload went over the size limit; it was stopped there, not read to the end."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the file is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class FileMissing(StorageError):
    """No file is stored under this key (or the key is not one storage could have made)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no stored file for key {key!r}")
        self.key = key


@dataclass(frozen=True)
class StoredFile:
    """What storage learnt about a file while storing it; the caller saves this in its row."""

    key: str
    size: int
    sha256: str
    mime: str | None
    extension: str | None


class Storage(Protocol):
    """Stores whole files under keys it chooses; the only way the app touches file bytes."""

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredFile:
        """Store the stream under a new key; EmptyFile or TooLarge leave nothing stored."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable, seekable file object, so downloads can answer Range requests.

        Werkzeug's send_file cannot learn the size of a file object: pass size(key) as
        complete_length to make_conditional for Range requests to be answered.
        """
        ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool:
        """False for a key storage could not have made, instead of raising FileMissing."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; a key that is already gone is fine, one never made is not."""
        ...

    def sweep(self, is_referenced: Callable[[set[str]], set[str]], older_than: datetime) -> int:
        """Delete stored files no row refers to, if last modified before older_than.

        is_referenced(keys) answers which of the keys rows still point to. The grace period
        protects uploads whose row is not committed yet. Abandoned temporary uploads older
        than older_than are removed too. Returns the number of stored files deleted.
        """
        ...


def new_key() -> str:
    """128 random bits: unguessable, and never reused, so a key always means the same bytes."""
    return secrets.token_hex(16)


def is_valid_key(key: str) -> bool:
    """Only keys storage makes are accepted, so a key can never name a path of its own."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def _checked(key: str) -> str:
    if not is_valid_key(key):
        raise FileMissing(key)
    return key


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("sweep() needs an aware datetime for older_than")
    return moment


class _Intake:
    """Counts, hashes and sniffs an upload as it passes, and stops it at the size limit."""

    def __init__(self, max_bytes: int | None) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hash = sha256()
        self.head = bytearray()

    def chunks(self, stream: BinaryIO) -> Iterator[bytes]:
        """The stream's bytes in chunks, never more than one chunk past the limit."""
        while chunk := stream.read(CHUNK_SIZE):
            self.size += len(chunk)
            if self.max_bytes is not None and self.size > self.max_bytes:
                raise TooLarge(self.max_bytes)
            self.hash.update(chunk)
            if len(self.head) < SNIFF_SIZE:
                self.head += chunk[: SNIFF_SIZE - len(self.head)]
            yield chunk

    def stored_as(self, key: str) -> StoredFile:
        if self.size == 0:
            raise EmptyFile
        kind = filetype.guess(bytes(self.head))
        return StoredFile(
            key=key,
            size=self.size,
            sha256=self.hash.hexdigest(),
            mime=kind.mime if kind else None,
            extension=kind.extension if kind else None,
        )


def _batches(items: Iterable[str]) -> Iterator[set[str]]:
    batch: set[str] = set()
    for item in items:
        batch.add(item)
        if len(batch) >= SWEEP_BATCH:
            yield batch
            batch = set()
    if batch:
        yield batch


# --- Local directory ------------------------------------------------------------------------


class LocalStorage:
    """Files in a directory on this machine, as ab/cd/<key>, readable only by the owner."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        _checked(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredFile:
        key = new_key()
        path = self._path(key)
        # The temporary file sits beside its destination, so the rename is atomic.
        for folder in (path.parent.parent, path.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix())  # mode 0o600
        intake = _Intake(max_bytes)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in intake.chunks(stream):
                    out.write(chunk)
                stored = intake.stored_as(key)
                out.flush()
                os.fsync(out.fileno())
            # A file's age is the portal clock's, the clock its row was written by.
            written = clock.now().timestamp()
            os.utime(temp, (written, written))
            os.replace(temp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_directory(path.parent)
        return stored

    def open(self, key: str) -> BinaryIO:
        try:
            return cast(BinaryIO, self._path(key).open("rb"))
        except FileNotFoundError:
            raise FileMissing(key) from None

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise FileMissing(key) from None

    def exists(self, key: str) -> bool:
        return is_valid_key(key) and self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def sweep(self, is_referenced: Callable[[set[str]], set[str]], older_than: datetime) -> int:
        cutoff = _aware(older_than).timestamp()
        deleted = 0
        for batch in _batches(self._keys_modified_before(cutoff)):
            for key in batch - is_referenced(set(batch)):
                self.delete(key)
                deleted += 1
        return deleted

    def _keys_modified_before(self, cutoff: float) -> Iterator[str]:
        """Stored keys older than cutoff; old temporary files are removed on the way."""
        for shard, folder in self._shard_folders():
            for entry in list(os.scandir(folder)):
                if not entry.is_file(follow_symlinks=False):
                    continue
                old = entry.stat(follow_symlinks=False).st_mtime < cutoff
                if entry.name.startswith(TEMP_PREFIX):
                    if _temp_started(entry.name, entry) < cutoff:
                        with suppress(FileNotFoundError):
                            os.unlink(entry.path)
                elif old and is_valid_key(entry.name) and entry.name.startswith(shard):
                    yield entry.name

    def _shard_folders(self) -> Iterator[tuple[str, str]]:
        """(the four key characters a folder holds, its path) for every ab/cd folder."""
        for top in os.scandir(self.root):
            if top.is_dir(follow_symlinks=False) and len(top.name) == 2:
                for sub in os.scandir(top.path):
                    if sub.is_dir(follow_symlinks=False) and len(sub.name) == 2:
                        yield top.name + sub.name, sub.path


def _fsync_directory(path: Path) -> None:
    """Make the rename itself durable, not only the file's bytes."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- S3-compatible object storage -----------------------------------------------------------


class S3Storage:
    """Objects in an S3-compatible bucket, so several app servers share files without a disk."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        config = Config(
            connect_timeout=10,
            read_timeout=60,
            retries={"max_attempts": 4, "mode": "standard"},
            # Self-hosted S3 (MinIO, Ceph, ...) rarely has a DNS name per bucket.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        self.client: BaseClient = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
            config=config,
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredFile:
        key = new_key()
        name = self._name(key)
        intake = _Intake(max_bytes)
        part = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in intake.chunks(stream):
                part += chunk
                if len(part) >= PART_SIZE:
                    if upload_id is None:
                        upload_id = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=name
                        )["UploadId"]
                    parts.append(self._upload_part(name, upload_id, len(parts) + 1, part))
                    part = bytearray()
            stored = intake.stored_as(key)
            if upload_id is None:  # smaller than one part: a single request will do
                self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(part))
            else:
                if part:
                    parts.append(self._upload_part(name, upload_id, len(parts) + 1, part))
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                self._abort(name, upload_id)
            raise
        return stored

    def _upload_part(self, name: str, upload_id: str, number: int, data: bytearray) -> dict:
        response = self.client.upload_part(
            Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _abort(self, name: str, upload_id: str) -> None:
        """Best effort: the upload's own error matters more; sweep() retries the abort."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
        except (BotoCoreError, ClientError):
            log.warning("could not abort multipart upload %s of %s", upload_id, name, exc_info=True)

    def open(self, key: str) -> BinaryIO:
        name = self._name(key)
        raw = _S3RangeReader(self.client, self.bucket, name, self._head(key)["ContentLength"])
        return cast(BinaryIO, io.BufferedReader(raw, buffer_size=READ_BUFFER_SIZE))

    def size(self, key: str) -> int:
        return self._head(key)["ContentLength"]

    def exists(self, key: str) -> bool:
        if not is_valid_key(key):
            return False
        try:
            self._head(key)
        except FileMissing:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def _head(self, key: str) -> dict[str, Any]:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _is_not_found(error):
                raise FileMissing(key) from None
            raise

    def sweep(self, is_referenced: Callable[[set[str]], set[str]], older_than: datetime) -> int:
        cutoff = _aware(older_than)
        deleted = 0
        for batch in _batches(self._keys_modified_before(cutoff)):
            unreferenced = batch - is_referenced(set(batch))
            if unreferenced:
                deleted += self._delete_many(unreferenced)
        self._abort_uploads_started_before(cutoff)
        return deleted

    def _keys_modified_before(self, cutoff: datetime) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, PaginationConfig={"PageSize": SWEEP_BATCH}
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if is_valid_key(key) and item["LastModified"] < cutoff:
                    yield key

    def _delete_many(self, keys: set[str]) -> int:
        response = self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": self._name(k)} for k in sorted(keys)], "Quiet": True},
        )
        if errors := response.get("Errors"):
            first = errors[0]
            raise StorageError(
                f"could not delete {len(errors)} object(s), first {first.get('Key')}: "
                f"{first.get('Code')} {first.get('Message')}"
            )
        return len(keys)

    def _abort_uploads_started_before(self, cutoff: datetime) -> None:
        """Multipart uploads of a crashed process would otherwise be billed forever."""
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self._abort(upload["Key"], upload["UploadId"])


def _is_not_found(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in {"404", "NoSuchKey", "NotFound"}


class _S3RangeReader(io.RawIOBase):
    """A seekable view of one object; each read is a ranged GET for exactly what is asked."""

    def __init__(self, client: BaseClient, bucket: str, name: str, length: int) -> None:
        self._client = client
        self._bucket = bucket
        self.name = name
        self._length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._length - self._position)
        if wanted <= 0:
            return 0
        filled = 0
        for data in self._get(self._position, self._position + wanted - 1):
            view[filled : filled + len(data)] = data
            filled += len(data)
        self._position += filled
        return filled

    def readall(self) -> bytes:
        """One GET for the rest, instead of the default loop of small reads."""
        if self._position >= self._length:
            return b""
        data = b"".join(self._get(self._position, self._length - 1))
        self._position += len(data)
        return data

    def _get(self, first: int, last: int) -> Iterator[bytes]:
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self.name, Range=f"bytes={first}-{last}"
            )
        except ClientError as error:
            if _is_not_found(error):
                raise FileMissing(self.name) from None
            raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()


# --- Configuration --------------------------------------------------------------------------

_S3_OPTIONS = frozenset({"endpoint_url", "access_key_id", "secret_access_key", "region"})


def storage_from_url(url: str, **options: str | None) -> Storage:
    """file:///absolute/path for a local directory, s3://bucket/optional/prefix for S3.

    options are endpoint_url, access_key_id, secret_access_key and region; they only
    matter for s3:// and are ignored for file://, so one configuration can switch backends.
    """
    unknown = set(options) - _S3_OPTIONS
    if unknown:
        raise ValueError(
            f"unknown storage option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_S3_OPTIONS))}"
        )
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise ValueError(
                f"storage URL {url!r} must name an absolute directory, "
                "e.g. file:///var/lib/portal/files (three slashes)"
            )
        return LocalStorage(Path(path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"storage URL {url!r} needs a bucket, e.g. s3://portal-files/prefix")
        return S3Storage(parts.netloc, unquote(parts.path).strip("/"), **options)
    raise ValueError(
        f"storage URL {url!r} is not supported; use file:///absolute/directory "
        "or s3://bucket/optional/prefix"
    )
