"""Which files are accepted and what their names become: sniffed content and extension must
agree, text must be text, and a name is only ever for display."""

from __future__ import annotations

import io
import zipfile

import pytest

from portal.documents import filetypes
from portal.documents.filetypes import Refused
from portal.documents.storage import LocalStorage

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 64
GIF = b"GIF89a" + b"\0" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\0" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 64
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


DOCX = _zip("[Content_Types].xml", "word/document.xml")
XLSX = _zip("[Content_Types].xml", "xl/workbook.xml")
ODT = _zip("mimetype", "content.xml")
ZIP = _zip("bonnen/januari.pdf")


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    return LocalStorage(tmp_path / "files")


def _check(store, name: str, content: bytes) -> str:  # type: ignore[no-untyped-def]
    stored = store.put(io.BytesIO(content))
    return filetypes.check_content(store, stored, filetypes.display_name(name))


@pytest.mark.parametrize(("name", "content", "mime"), [
    ("jaarrekening.pdf", PDF, "application/pdf"),
    ("JAARREKENING.PDF", PDF, "application/pdf"),
    ("bon.png", PNG, "image/png"),
    ("bon.jpg", JPEG, "image/jpeg"),
    ("bon.jpeg", JPEG, "image/jpeg"),
    ("bon.gif", GIF, "image/gif"),
    ("bon.webp", WEBP, "image/webp"),
    ("foto.heic", HEIC, "image/heic"),
    ("brief.docx", DOCX, filetypes.KINDS["docx"][1]),
    ("brief.docx", ZIP, filetypes.KINDS["docx"][1]),  # a zip the sniffer cannot place
    ("begroting.xlsx", XLSX, filetypes.KINDS["xlsx"][1]),
    ("presentatie.pptx", _zip("[Content_Types].xml", "ppt/presentation.xml"),
     filetypes.KINDS["pptx"][1]),
    ("brief.odt", ODT, "application/vnd.oasis.opendocument.text"),
    ("tabel.ods", ODT, "application/vnd.oasis.opendocument.spreadsheet"),
    ("oud.doc", OLE, "application/msword"),
    ("oud.xls", OLE, "application/vnd.ms-excel"),
    ("bonnen.zip", ZIP, "application/zip"),
    ("bonnen.zip", DOCX, "application/zip"),  # any zip may be called .zip
    ("bank.csv", "datum;bedrag\n2025-01-02;-12,50 €\n".encode(), "text/csv"),
    ("bank.csv", "omschrijving;bedrag\nCafé;€ 3\n".encode("cp1252"), "text/csv"),
    ("notities.txt", "\ufeffMet BOM en ümlaut\n".encode(), "text/plain"),
])
def test_accepted_when_content_and_extension_agree(store, name, content, mime):
    assert _check(store, name, content) == mime


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("setup.exe", b"MZ" + b"\0" * 100, "type"),
    ("script.js", b"alert(1)", "type"),
    ("pagina.html", b"<html><script>alert(1)</script>", "type"),
    ("scan", PDF, "no_extension"),
    ("scan.", PDF, "no_extension"),
    ("foto.png", PDF, "mismatch"),
    ("foto.jpg", PNG, "mismatch"),
    ("rapport.pdf", PNG, "mismatch"),
    ("begroting.docx", XLSX, "mismatch"),
    ("brief.xlsx", DOCX, "mismatch"),
    ("brief.docx", PDF, "mismatch"),
    ("oud.doc", ZIP, "mismatch"),
    ("bonnen.zip", OLE, "mismatch"),
    ("bank.csv", PDF, "mismatch"),
    ("bank.csv", b"a;b\x00c", "not_text"),
    ("bank.txt", b"\x81\x8d\x8f\x90\x9d\xff\xfe\xc3", "not_text"),
])
def test_refused_when_they_do_not(store, name, content, reason):
    with pytest.raises(Refused) as refused:
        _check(store, name, content)
    assert refused.value.refusal.reason == reason
    assert refused.value.refusal.filename == filetypes.display_name(name)


def test_text_is_checked_all_the_way_through_not_only_its_start(store):
    content = b"a;b\n" * 100_000 + b"\x00"
    with pytest.raises(Refused):
        _check(store, "groot.csv", content)
    assert _check(store, "groot.csv", b"a;b\n" * 100_000) == "text/csv"


def test_a_multibyte_character_across_chunks_is_still_utf8(store):
    from portal.documents.storage import CHUNK_SIZE

    content = b"a" * (CHUNK_SIZE - 1) + "€".encode() + b"\n"
    assert filetypes.is_text(store, store.put(io.BytesIO(content)).key)


@pytest.mark.parametrize(("raw", "shown"), [
    ("jaarrekening.pdf", "jaarrekening.pdf"),
    ("C:\\Users\\piet\\Documents\\bon.pdf", "bon.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("bon\x00\x07\r\n.pdf", "bon.pdf"),
    ("fdp\u202egpj.exe", "fdp gpj.exe"),  # a bidi override cannot disguise the extension
    ("  spaties   overal  .pdf  ", "spaties overal.pdf"),
    ("Cafe\u0301 ÷ Bakkerij.pdf", "Café ÷ Bakkerij.pdf"),  # NFC
    ("rapport.", "rapport"),
    ("", "document"),
    ("/", "document"),
    (".pdf", "document.pdf"),
    (None, "document"),
    ("rapport. versie twee", "rapport. versie twee"),
])
def test_display_names(raw, shown):
    assert filetypes.display_name(raw) == shown


def test_long_names_are_shortened_keeping_the_extension():
    name = filetypes.display_name("a" * 500 + ".xlsx")
    assert len(name) == filetypes.MAX_NAME and name.endswith("….xlsx")


def test_renaming_keeps_the_extension():
    assert filetypes.renamed("scan01.pdf", "Bank januari") == "Bank januari.pdf"
    assert filetypes.renamed("scan01.pdf", "Bank januari.PDF") == "Bank januari.PDF"
    assert filetypes.renamed("scan01.pdf", "Bank.exe") == "Bank.exe.pdf"
    assert filetypes.renamed("scan01.pdf", "../x/Bank.pdf") == "Bank.pdf"


def test_a_refused_name_costs_no_storage(store, tmp_path):
    with pytest.raises(Refused):
        filetypes.check_name("setup.exe")
    assert not any(p.is_file() for p in (tmp_path / "files").rglob("*"))
