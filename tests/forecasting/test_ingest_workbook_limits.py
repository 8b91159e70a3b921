"""Hostile workbooks are refused before they can take the machine's memory (issue 11, point 2).

Zip bombs (a part compressed over 100 times, parts declaring more than 512 MiB), parts that
lie about their size, DOCTYPEs, sheets beyond 2**24 cells: each is built here in
``tmp_path``, small, and refused with a message naming the part and the limit; the CLI exits
with code 2. Peak memory and time of the worst files (1 GiB bombs, a full 1,048,576-row
sheet, 16,384 columns, 3 million shared strings) are measured on demand by
``benchmarks/bench_ingest.py --hostile``, never asserted here.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from forecasting import ingest_files
from forecasting.errors import IngestError
from forecasting.ingest import _workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{REL}/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}
HEADER = ["date", "network", "segment", "result_type", "spend", "results"]
#: shared strings 0-5 are the header, 6.. the values of ``row``
STRINGS = [*HEADER, "2025-01-06", "meta", "all", "purchases"]


def xlsx(
    path: Path, rows: str, strings: str | None = None, *, doctype: str = "", stored=False
) -> Path:
    """Write a workbook whose sheet data is ``rows`` and shared strings ``strings``.

    ``stored``: the sheet is stored uncompressed.
    """
    if strings is None:
        strings = "".join(f"<si><t>{s}</t></si>" for s in STRINGS)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}"><dimension ref="A1"/><sheetData>{rows}</sheetData>'
            "</worksheet>",
            compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
        )
        zf.writestr("xl/sharedStrings.xml", f'{doctype}<sst xmlns="{MAIN}">{strings}</sst>')
    return path


def header_row() -> str:
    return '<row r="1">' + "".join(
        f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEF")
    ) + "</row>"  # fmt: skip


def data_row(r: int, extra: str = "") -> str:
    cells = "".join(
        f'<c r="{c}{r}" t="s"><v>{i}</v></c>' for c, i in zip("ABCD", range(6, 10), strict=True)
    )
    return f'<row r="{r}">{cells}<c r="E{r}"><v>10.5</v></c><c r="F{r}"><v>1</v></c>{extra}</row>'  # fmt: skip


def refused(path: Path) -> str:
    """``adplan ingest path`` must exit 2 with a message (in process, Typer's runner)."""
    done = CliRunner().invoke(cli_app, ["ingest", str(path)], env={"ADPLAN_DEBUG": None})
    assert done.exit_code == 2, f"exit {done.exit_code}\n{done.stdout}\n{done.stderr}"
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stderr.split())


def declare_size(path: Path, part: str, size: int) -> None:
    """Rewrite the uncompressed size the zip directory (and local header) declares for ``part``."""
    data = bytearray(path.read_bytes())
    name = part.encode()
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.find(sig)
        while at >= 0:
            if data[at + name_at : at + name_at + len(name)] == name:
                data[at + size_at : at + size_at + 4] = size.to_bytes(4, "little")
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).getinfo(part).file_size == size


def test_the_builder_writes_a_workbook_adplan_reads(tmp_path):
    path = xlsx(tmp_path / "ok.xlsx", header_row() + data_row(1_048_576))
    h = ingest_files([path]).history
    assert len(h) == 1 and h["spend"].iloc[0] == 10.5


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path):
    path = xlsx(tmp_path / "bomb.xlsx", header_row() + " " * (4 << 20) + data_row(2))
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 100 * info.compress_size  # the premise: a bomb, if a small one
    err = refused(path)
    assert "the part xl/worksheets/sheet1.xml of the workbook inflates from" in err
    assert "adplan reads parts compressed at most 100 times" in err and "zip bomb" in err


def test_parts_declaring_more_than_512_mib_are_refused_before_reading(tmp_path):
    """7 MiB stored uncompressed, declaring 600 MiB: below the ratio, above the total."""
    path = xlsx(tmp_path / "big.xlsx", header_row() + " " * (7 << 20) + data_row(2), stored=True)
    declare_size(path, "xl/worksheets/sheet1.xml", 600 * 2**20)
    err = refused(path)
    assert f"{path}: the workbook decompresses to 600 MiB, more than the 512 MiB" in err
    assert "export it as CSV" in err


def test_a_part_longer_than_it_declares_is_not_read_beyond(tmp_path):
    """The zip stops reading at the declared size, then the CRC fails: refused, not inflated."""
    path = xlsx(tmp_path / "lying.xlsx", header_row() + " " * (4 << 20) + data_row(2))
    declare_size(path, "xl/worksheets/sheet1.xml", 1000)
    err = refused(path)
    assert f"{path}: not a readable Excel workbook (BadZipFile: Bad CRC-32" in err


def test_a_doctype_is_refused(tmp_path):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {x} "{("&" + p + ";") * 10}">' for p, x in zip("abcdefgh", "bcdefghi", strict=True))
        + "]>"
    )  # fmt: skip
    path = xlsx(tmp_path / "laughs.xlsx", header_row(), "<si><t>&i;</t></si>", doctype=laughs)
    err = refused(path)
    assert "the part xl/sharedStrings.xml of the workbook declares a DOCTYPE" in err


def test_more_cells_than_the_limit_are_refused(tmp_path):
    """A value in column XFD on 1,100 rows: 18 million cells kept, over 2**24."""
    rows = "".join(data_row(r, f'<c r="XFD{r}"><v>1</v></c>') for r in range(2, 1102))
    path = xlsx(tmp_path / "wide.xlsx", header_row() + rows)
    err = refused(path)
    assert 'sheet "Sheet1", row 1025: the workbook holds more than 16,777,216 cells' in err


def test_a_cell_of_too_many_elements_is_refused(tmp_path):
    runs = "<r><t>a</t></r>" * 6000  # 12,000 elements in one inline string
    cell = f'<row r="2"><c r="A2" t="inlineStr"><is>{runs}</is></c></row>'
    path = xlsx(tmp_path / "runs.xlsx", header_row() + cell)
    err = refused(path)
    assert 'sheet "Sheet1", row 2: a cell holds more than 10,000 XML elements' in err


def test_formatted_empty_rows_are_not_rows(tmp_path):
    empty = "".join(f'<row r="{r}" ht="20" customHeight="1"><c r="A{r}" s="0"/></row>'
                    for r in range(3, 100_003))  # fmt: skip
    path = xlsx(tmp_path / "empty.xlsx", header_row() + data_row(2) + empty)
    report = ingest_files([path]).report
    assert (report.rows_read, report.rows_written) == (1, 1)


def test_the_last_sheet_row_is_named_in_messages(tmp_path):
    bad = data_row(1_048_576).replace("<v>10.5</v>", "<v>-3</v>")
    path = xlsx(tmp_path / "last.xlsx", header_row() + data_row(2) + bad)
    err = refused(path)
    assert 'data row 2 (sheet row 1048576), column "spend": negative spend' in err


@pytest.mark.parametrize(
    ("limit", "value", "words"),
    [
        ("MAX_SHARED_STRINGS_BYTES", 1 << 20, "the part xl/sharedStrings.xml of the workbook "
         "decompresses to 2 MiB, more than the 1 MiB adplan reads in such a part"),
        ("MAX_OTHER_PART_BYTES", 300, "the part [Content_Types].xml of the workbook "
         "decompresses to"),
        ("MAX_XLSX_BYTES", 1 << 20, "the workbook decompresses to 2 MiB, more than the 1 MiB"),
        ("MAX_PARTS", 5, "the workbook has 6 parts; adplan reads at most 5"),
    ],
)  # fmt: skip
def test_each_limit_names_itself(tmp_path, monkeypatch, limit, value, words):
    """Shared strings of 2 MiB that compress less than 100 times, against lowered limits."""
    strings = "".join(f"<si><t>{s}</t></si>" for s in STRINGS) + "".join(
        f"<si><t>{os.urandom(6).hex()}-{k}</t></si>" for k in range(60_000)
    )
    path = xlsx(tmp_path / "h.xlsx", header_row() + data_row(2), strings)
    assert len(ingest_files([path]).history) == 1  # read under the real limits
    monkeypatch.setattr(_workbook, limit, value)
    with pytest.raises(IngestError) as e:
        ingest_files([path])
    assert str(e.value).startswith(f"{path}: ") and words in str(e.value), str(e.value)
