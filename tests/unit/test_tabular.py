"""Reading tables from elsewhere: whatever the bytes, the reader gives a table or a
TableError with a message, never another exception (which would be a 500 on the page)."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import tabular
from portal.clients import imports

ALIASES = imports.ALIASES
FAST = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
rows = st.lists(st.lists(cells, min_size=1, max_size=6), min_size=0, max_size=12)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])
delimiters = st.sampled_from([";", ",", "\t", "|"])


def _read(data: bytes) -> tabular.Table | None:
    try:
        return tabular.read_table(data, ALIASES, max_rows=1000)
    except tabular.TableError as error:
        assert str(error)  # a message for the person, never empty
        return None


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_give_a_table_or_a_message(data):
    _read(data)


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes_behind_a_zip_signature_give_a_message(data):
    assert _read(tabular.XLSX_MAGIC + data) is None


@FAST
@given(rows, encodings, delimiters)
def test_any_table_in_any_encoding_reads_back_its_rows(table, encoding, delimiter):
    text = "\r\n".join(delimiter.join(row) for row in table)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode(encoding, errors="replace")
    read = _read(data)
    if read is not None:
        assert all(isinstance(c, str) for _line, row in read.rows for c in row)
        assert all(line >= 1 for line, _row in read.rows)


@FAST
@given(rows, encodings)
def test_the_import_preview_reader_never_raises_anything_but_a_refusal(table, encoding):
    text = "\n".join(";".join(row) for row in [["Code", "Naam", "E-mail"], *table])
    data = text.encode(encoding, errors="replace")
    try:
        imports.read(data)
    except imports.ImportRefused as refusal:
        assert refusal.message


@pytest.mark.parametrize(("data", "encoding"), [
    ("Code;Naam\r\n1;Café\r\n".encode("cp1252"), "cp1252"),
    (codecs.BOM_UTF8 + "Code;Naam\r\n1;Café\r\n".encode(), "utf-8-sig"),
    ("Code,Naam\n1,Café\n".encode("utf-16"), "utf-16"),
])
def test_encodings_and_delimiters_are_recognised(data, encoding):
    table = tabular.read_table(data, ALIASES, max_rows=10)
    assert (table.encoding, table.header, table.rows[0][1]) == (
        encoding, ["Code", "Naam"], ["1", "Café"])
