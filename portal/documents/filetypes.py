"""Which files are accepted, and what their names may be.

A file is accepted when its name's extension is on the list AND its content is what that
extension says: sniffed magic bytes for PDF and images, a ZIP container for the zip-based
office formats (and an OLE container for the old ones), and for CSV and plain text, which
have no magic bytes, text that decodes as UTF-8 or Windows-1252 without NUL bytes. The
name a user gave is kept only for display and download; files are stored by key.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from typing import Any

from portal.documents.storage import CHUNK_SIZE, Storage, StoredFile

MAX_NAME = 150  # characters; the extension survives shortening
FALLBACK_STEM = "document"

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# How each accepted extension is checked, and the type it is served as.
_PDF, _IMAGE, _ZIP, _OLE, _TEXT = "pdf", "image", "zip", "ole", "text"
KINDS: dict[str, tuple[str, str]] = {
    "pdf": (_PDF, "application/pdf"),
    "png": (_IMAGE, "image/png"),
    "jpg": (_IMAGE, "image/jpeg"),
    "jpeg": (_IMAGE, "image/jpeg"),
    "gif": (_IMAGE, "image/gif"),
    "webp": (_IMAGE, "image/webp"),
    "heic": (_IMAGE, "image/heic"),
    "heif": (_IMAGE, "image/heif"),
    "docx": (_ZIP, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (_ZIP, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (_ZIP, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "odt": (_ZIP, "application/vnd.oasis.opendocument.text"),
    "ods": (_ZIP, "application/vnd.oasis.opendocument.spreadsheet"),
    "zip": (_ZIP, "application/zip"),
    "doc": (_OLE, "application/msword"),
    "xls": (_OLE, "application/vnd.ms-excel"),
    "csv": (_TEXT, "text/csv"),
    "txt": (_TEXT, "text/plain"),
}
# What the sniffer may call an image with each extension (HEIC and HEIF overlap).
_IMAGE_MIMES = {
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "heic": {"image/heic", "image/heif"},
    "heif": {"image/heic", "image/heif"},
}
# Office formats the sniffer recognises inside a container: a .docx whose content is a
# spreadsheet is refused, not served under the wrong name.
_SPECIFIC = {"docx", "xlsx", "pptx", "odt", "ods", "odp", "doc", "xls", "ppt"}
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in KINDS)


@dataclass(frozen=True)
class Refusal:
    """Why one file was not accepted; `reason` is one of: empty, too_large, no_extension,
    type, mismatch, not_text."""

    filename: str
    reason: str
    facts: dict[str, Any]


class Refused(Exception):
    def __init__(self, filename: str, reason: str, **facts: Any) -> None:
        super().__init__(f"{filename}: {reason}")
        self.refusal = Refusal(filename, reason, facts)


def display_name(raw: str | None) -> str:
    """A name fit for display and Content-Disposition: no path, no control or format
    characters (so no bidi override that makes "fdp.exe" read as "exe.pdf"), NFC, at most
    MAX_NAME characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isprintable() else " " for ch in name)
    name = " ".join(name.split()).rstrip(". ")
    stem, extension = _split(name)
    stem = stem.strip() or FALLBACK_STEM
    suffix = f".{extension}" if extension else ""
    if len(stem) + len(suffix) > MAX_NAME:
        stem = stem[: MAX_NAME - len(suffix) - 1].rstrip() + "\u2026"
    return stem + suffix


def _split(name: str) -> tuple[str, str]:
    """(stem, extension); "report. final version" has no extension."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not extension or len(extension) > 10 or " " in extension:
        return name, ""
    return stem, extension


def extension_of(name: str) -> str:
    return _split(name)[1].lower()


def check_name(name: str) -> str:
    """The extension, when it is one we accept (before any byte is stored)."""
    extension = extension_of(name)
    if not extension:
        raise Refused(name, "no_extension")
    if extension not in KINDS:
        raise Refused(name, "type", extension=extension)
    return extension


def check_content(store: Storage, stored: StoredFile, name: str) -> str:
    """The MIME type to store and serve, when the content is what the name says."""
    extension = check_name(name)
    kind, mime = KINDS[extension]
    sniffed = stored.extension
    if kind == _PDF:
        agrees = stored.mime == "application/pdf"
    elif kind == _IMAGE:
        agrees = stored.mime in _IMAGE_MIMES[extension]
    elif kind in (_ZIP, _OLE):
        magic = ZIP_MAGIC if kind == _ZIP else OLE_MAGIC
        agrees = _starts_with(store, stored.key, magic) and not (
            extension != "zip" and sniffed in _SPECIFIC and sniffed != extension)
    elif sniffed in KINDS and KINDS[sniffed][0] != _TEXT:
        agrees = False  # e.g. a PDF called .csv; weaker signatures may be text by chance
    elif not is_text(store, stored.key):
        raise Refused(name, "not_text", extension=extension)
    else:
        agrees = True
    if not agrees:
        raise Refused(name, "mismatch", extension=extension, found=sniffed)
    return mime


def _starts_with(store: Storage, key: str, magic: bytes) -> bool:
    with store.open(key) as handle:
        return handle.read(len(magic)) == magic


def is_text(store: Storage, key: str) -> bool:
    """UTF-8 (with or without BOM) or Windows-1252 all the way through, and no NUL byte."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    fits = {"utf-8": True, "cp1252": True}
    with store.open(key) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            if b"\x00" in chunk:
                return False
            for codec, decoder in (("utf-8", utf8), ("cp1252", cp1252)):
                if fits[codec]:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        fits[codec] = False
            if not any(fits.values()):
                return False
    for codec, decoder in (("utf-8", utf8), ("cp1252", cp1252)):
        if fits[codec]:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                fits[codec] = False
    return any(fits.values())


def renamed(current: str, wanted: str) -> str:
    """A new display name keeps the file's extension, so the download stays what it is."""
    extension = extension_of(current)
    name = display_name(wanted)
    if extension and extension_of(name) != extension:
        name = display_name(f"{name}.{extension}")
    return name
