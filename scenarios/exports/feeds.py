"""Stable feeds for spreadsheets: the tables a named plan serves, as CSV and as .odc files.

A feed is one table of a plan (:data:`FEEDS`): its lines (``plan``), its spend by line and
period (``flighting``), what its binding rules cost (``ledger``), plan against actual spend
(``plan-vs-actual``) and its scenario comparison (``comparison``). :func:`feed_table` gives
its headers (machine names: queries use them) and rows; :func:`feed_csv_text` writes it.

- Without a locale the CSV is the machine form: ``,``-separated, numbers exact (the shortest
  digits that read back to the same float, never an exponent), as ``plan_csv_text``.
- With a locale (:func:`check_locale`: ``fr``, ``de-CH``, ...) it is the form that locale's
  spreadsheets read as numbers: its separator (``;`` where the decimal mark is a comma), its
  decimal mark, no thousands separators, money and results to 2 decimals; the columns a
  sheet sums are rounded by largest remainder (:func:`~scenarios.money.round_to_total`), so
  they add up exactly to their own total rounded to cents.

Every text cell is neutralised (:func:`~.cells.neutralise_cell`); there is never a totals
row (the sheet sums). :func:`odc_text` writes the Office Data Connection file that Excel
opens to load a feed through Power Query.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from ..money import round_grid, round_half, round_to_total
from .cells import neutralise_cell
from .plan import (
    LEDGER_FIELDS,
    ExportError,
    csv_columns,
    ledger_entries,
    number,
    pivot,
    plan_dict,
    plan_rows,
)
from .replan import FIGURES

#: the feeds a named plan serves, in the order the docs list them
FEEDS = ("plan", "flighting", "ledger", "plan-vs-actual", "comparison")


@dataclass(frozen=True, slots=True)
class Locale:
    """How a locale's spreadsheets read CSV: the field separator and the decimal mark."""

    name: str
    delimiter: str
    decimal: str


_POINT = (",", ".")  # comma-separated, decimal point
_COMMA = (";", ",")  # semicolon-separated, decimal comma

#: languages, each with the separator and decimal mark its spreadsheets expect
LOCALES: dict[str, Locale] = {
    name: Locale(name, *seps)
    for name, seps in {
        "en": _POINT,
        "fr": _COMMA,
        "de": _COMMA,
        "es": _COMMA,
        "it": _COMMA,
        "nl": _COMMA,
        "pt": _COMMA,
        "pl": _COMMA,
        "sv": _COMMA,
        "da": _COMMA,
        "fi": _COMMA,
        "nb": _COMMA,
        "cs": _COMMA,
        "ru": _COMMA,
        "tr": _COMMA,
    }.items()
}

#: the regions accepted after each language (``fr-CA``, ``fr_ca``): those known to write
#: numbers as the language does; other regions are refused rather than guessed
REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "IE", "AU", "NZ", "CA", "IN", "SG"),
    "fr": ("FR", "BE", "CA", "LU"),
    "de": ("DE", "AT", "LU"),
    "es": ("ES", "AR", "CL", "CO"),
    "it": ("IT",),
    "nl": ("NL", "BE"),
    "pt": ("PT", "BR"),
    "pl": ("PL",),
    "sv": ("SE", "FI"),
    "da": ("DK",),
    "fi": ("FI",),
    "nb": ("NO",),
    "cs": ("CZ",),
    "ru": ("RU",),
    "tr": ("TR",),
}

#: regions that write numbers unlike their language: Swiss German and Italian use a decimal
#: point (with ``;`` between fields), Mexican Spanish a decimal point and commas
REGION_EXCEPTIONS: dict[str, tuple[str, str]] = {
    "de-CH": (";", "."),
    "de-LI": (";", "."),
    "it-CH": (";", "."),
    "es-MX": (",", "."),
}


def _known_locales() -> dict[str, Locale]:
    """Return every accepted locale by its lower-case name (``fr``, ``fr-ca``, ``de-ch``)."""
    known = dict(LOCALES)
    for lang, regions in REGIONS.items():
        for region in regions:
            name = f"{lang}-{region}"
            known[name.lower()] = Locale(name, LOCALES[lang].delimiter, LOCALES[lang].decimal)
    for name, seps in REGION_EXCEPTIONS.items():
        known[name.lower()] = Locale(name, *seps)
    return known


def supported_locales() -> str:
    """Say which locales are supported, in words (the unknown-locale message uses it)."""
    parts = []
    for lang in LOCALES:
        regions = [f"{lang}-{r}" for r in REGIONS.get(lang, ())]
        regions += [n for n in REGION_EXCEPTIONS if n.startswith(lang + "-")]
        parts.append(f"{lang} ({', '.join(regions)})" if regions else lang)
    return "; ".join(parts)


def check_locale(text: str | None) -> Locale | None:
    """Return the locale named by ``text`` (``fr``, ``fr-FR``, ``fr_CA``, any case).

    None (or blank) asks for no locale: the exact machine CSV. An unknown name raises
    ExportError listing the supported locales.
    """
    if text is None or not text.strip():
        return None
    key = text.strip().replace("_", "-").lower()
    found = _known_locales().get(key)
    if found is None:
        raise ExportError(
            f"unknown locale {text[:40]!r}: use a language or language-REGION among "
            f"{supported_locales()}; leave locale out for the exact CSV"
        )
    return found


# --- the tables ---------------------------------------------------------------------------

#: text columns (every other feed column holds numbers, or true/false for ``gain_proven``)
TEXT_COLUMNS = ("network", "segment", "period", "status", "variant", "rule", "words", "unit")
#: true / false columns
LOGICAL_COLUMNS = ("gain_proven",)

LEDGER_COLUMNS = LEDGER_FIELDS

COMPARISON_COLUMNS = (
    "variant",
    "status",
    "total_spend",
    "spend_vs_base",
    "expected_results",
    "results_vs_base",
    "cost_per_result",
    "cost_per_result_vs_base",
    "results_p10",
    "results_p90",
    "chance_beats_base",
)


def feed_table(
    kind: str, plan, *, comparison: Mapping | None = None
) -> tuple[list[str], list[list]]:
    """Return the feed ``kind`` of ``plan`` as (headers, rows); numbers exact, text raw.

    ``kind`` is one of :data:`FEEDS`; ``plan`` a Plan or its JSON dict; ``comparison`` the
    comparison dict of the plan's scenario run (``compare_plans``), needed by the
    ``comparison`` feed only. Unknown kinds and a missing comparison raise ExportError.
    """
    if kind == "comparison":
        return _comparison_table(comparison)
    makers = {
        "plan": _plan_table,
        "flighting": _flighting_table,
        "ledger": _ledger_table,
        "plan-vs-actual": _plan_vs_actual_table,
    }
    if kind not in makers:
        raise ExportError(f"unknown feed {kind!r}: use one of {', '.join(FEEDS)}")
    return makers[kind](plan_dict(plan))


def _plan_table(d: dict) -> tuple[list[str], list[list]]:
    """Return the plan CSV's columns and one row per line (``plan_csv_text``'s table)."""
    columns = list(csv_columns(d))
    return columns, [[r[c] for c in columns] for r in plan_rows(d)]


def _flighting_table(d: dict) -> tuple[list[str], list[list]]:
    """Return the spend per network x segment (rows) and period (columns), and a total.

    As the XLSX ``Flighting`` table, without its totals row (the sheet sums the columns).
    """
    keys, periods, cells = pivot(plan_rows(d), "spend", by="line")
    rows = []
    for net, seg in keys:
        values = [cells.get(((net, seg), p), 0.0) for p in periods]
        rows.append([net, seg, *values, math.fsum(values)])
    return ["network", "segment", *periods, "total"], rows


def _ledger_table(d: dict) -> tuple[list[str], list[list]]:
    """Return the plan's ledger: its binding rules, the most costly first."""
    rows = []
    for e in ledger_entries(d):
        proven = e.get("gain_proven")
        row = {
            **{k: number(e.get(k)) for k in LEDGER_COLUMNS},
            "rule": _text(e.get("rule")),
            "words": _text(e.get("words")),
            "unit": _text(e.get("unit")),
            "gain_proven": proven if isinstance(proven, bool) else None,
        }
        rows.append([row[k] for k in LEDGER_COLUMNS])
    return list(LEDGER_COLUMNS), rows


def _text(value) -> str | None:
    """Return ``value`` as text, None staying None."""
    return None if value is None else str(value)


def _plan_vs_actual_table(d: dict) -> tuple[list[str], list[list]]:
    """Return per line and period the planned, actual and re-planned spend and results.

    A re-plan's rows come from :func:`~.replan.replan_lines`; a plan not yet re-planned has
    the same columns, every period ``open``, its spend and results as planned and re-planned,
    no actuals and no variance (0), so a sheet's query works before the first re-plan.
    """
    from .replan import REPLAN_COLUMNS, is_replan, replan_lines

    lines = replan_lines(d) if is_replan(d) else [_open_line(r) for r in plan_rows(d)]
    columns = list(REPLAN_COLUMNS)
    return columns, [[line.get(c) for c in columns] for line in lines]


def _open_line(r: dict) -> dict:
    """Return a plan line as a plan-vs-actual line of an open period (nothing spent yet)."""
    return {
        "network": r["network"],
        "segment": r["segment"],
        "period": r["period"],
        "status": "open",
        "planned_spend": r["spend"],
        "actual_spend": None,
        "replanned_spend": r["spend"],
        "spend_variance": 0.0,
        "planned_results": r["expected_results"],
        "actual_results": None,
        "replanned_results": r["expected_results"],
        "results_variance": 0.0,
    }


def _comparison_table(comparison: Mapping | None) -> tuple[list[str], list[list]]:
    """Return one row per variant of a scenario run's comparison, against the base.

    As the workbook's ``Comparison`` table: differences "over/(under) base" are empty for
    the base; totals of results are empty where results do not add up (reach).
    """
    if comparison is None:
        raise ExportError(
            "the current version of this plan has no scenario run, so no comparison: "
            "publish a scenario run's plan to get the comparison feed"
        )
    cases = comparison.get("cases") if isinstance(comparison, Mapping) else None
    if not isinstance(cases, list):
        raise ExportError("comparison: expected a dict with a 'cases' list (compare_plans)")
    summed = comparison.get("results_additive") is not False
    rows = [c for c in cases if isinstance(c, Mapping)]
    return list(COMPARISON_COLUMNS), [
        _comparison_row(c, i == 0, summed) for i, c in enumerate(rows)
    ]


def _comparison_row(c: Mapping, base: bool, summed: bool) -> list:
    """Return one variant's comparison row (see :data:`COMPARISON_COLUMNS`).

    ``base``: the case is the base (the first: ``compare_plans``), which has no chance of
    beating itself.
    """
    delta = c.get("delta")
    d: Mapping = delta if isinstance(delta, Mapping) else {}
    name = _text(c.get("name"))
    row = {
        "variant": name,
        "status": _text(c.get("status")),
        "total_spend": number(c.get("total_spend")),
        "spend_vs_base": number(d.get("total_spend")),
        "expected_results": number(c.get("expected_results")),
        "results_vs_base": number(d.get("expected_results")),
        "cost_per_result": number(c.get("cost_per_result")),
        "cost_per_result_vs_base": number(d.get("cost_per_result")),
        "results_p10": number(c.get("results_p10")),
        "results_p90": number(c.get("results_p90")),
        "chance_beats_base": None if base else number(c.get("beats_base_probability")),
    }
    if not summed:  # reach: no total of results across periods
        for k in COMPARISON_COLUMNS[4:]:
            row[k] = None
    return [row[k] for k in COMPARISON_COLUMNS]


# --- CSV ----------------------------------------------------------------------------------

#: columns a sheet sums, per feed: rounded by largest remainder so they add up to their own
#: total rounded; the flighting's every number column (periods and total) too
SUMMED: dict[str, frozenset[str]] = {
    "plan": frozenset(
        {"spend", "expected_results", "results_inside", "results_attributed", "results_incremental"}
    ),
    "plan-vs-actual": frozenset(FIGURES),
}
#: rates kept to :data:`SIGNIFICANT` significant digits (not cents): results per unit of
#: currency, per 1,000 of currency, and a probability
RATE_COLUMNS = frozenset({"shadow_price", "per_1000", "chance_beats_base"})
SIGNIFICANT = 6
#: decimals of every other number in a localised feed (money to cents, results likewise)
DECIMALS = 2


def feed_csv_text(
    kind: str, plan, *, comparison: Mapping | None = None, locale: Locale | None = None
) -> str:
    """Return the feed ``kind`` as CSV text (RFC 4180: CRLF, quoting by the csv module).

    Without ``locale``: ``,``-separated, numbers exact (shortest round-trip digits, never an
    exponent). With one: its separator and decimal mark, no thousands separators, numbers
    to :data:`DECIMALS` decimals (the :data:`SUMMED` columns and the flighting's by largest
    remainder, each column adding up to its exact total rounded), rates
    (:data:`RATE_COLUMNS`) to :data:`SIGNIFICANT` significant digits, never an exponent.
    Text cells are neutralised; ``gain_proven`` is ``true`` / ``false``; unknown is empty.
    """
    headers, rows = feed_table(kind, plan, comparison=comparison)
    if locale is None:
        cells = [[_exact(v) for v in row] for row in rows]
    else:
        shown = _shown_rows(kind, plan, rows)
        cells = _localised(
            kind, headers, rows if shown is None else shown, locale, shown is not None
        )
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=locale.delimiter if locale else ",", lineterminator="\r\n")
    w.writerow([neutralise_cell(h) for h in headers])
    w.writerows(cells)
    return buf.getvalue()


def _is_number(value) -> bool:
    """Say whether ``value`` is a number to format (booleans are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exact(value) -> str:
    """Return ``value`` as the machine CSV writes it: exact digits, no exponent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(float(value) + 0.0)), "f")  # -0.0 -> 0.0
    return str(neutralise_cell(str(value)))


def _shown_rows(kind: str, plan, rows: list[list]) -> list[list] | None:
    """Return the rows of a feed rounded as the workbook shows them, or None for the others.

    The flighting: each line's periods add up to its total, the totals to the plan's
    (:func:`scenarios.money.round_grid`, as the XLSX ``Flighting`` table); a re-plan's
    plan against actual: as :func:`.replan.replan_shown` (a variance is the shown
    difference). Money to cents, results as the workbook shows them.
    """
    if kind == "flighting":
        grid, totals = round_grid([r[2:-1] for r in rows])
        return [[*r[:2], *g, t] for r, g, t in zip(rows, grid, totals, strict=True)]
    if kind == "plan-vs-actual":
        from .replan import REPLAN_COLUMNS, is_replan, replan_shown

        if is_replan(plan_dict(plan)):
            return [[ln.get(c) for c in REPLAN_COLUMNS] for ln in replan_shown(plan)[2]]
    return None


def _localised(
    kind: str, headers: list[str], rows: list[list], locale: Locale, rounded: bool = False
) -> list[list]:
    """Return the rows' cells as ``locale`` writes them (see :func:`feed_csv_text`).

    ``rounded``: the numbers are already rounded as shown (:func:`_shown_rows`).
    """
    out: list[list[str]] = [[_exact(v) if not _is_number(v) else "" for v in r] for r in rows]
    summed = SUMMED.get(kind, frozenset())
    for j, name in enumerate(headers):
        at = [i for i, r in enumerate(rows) if _is_number(r[j])]
        if not at:
            continue
        values = [float(rows[i][j]) for i in at]
        if name in RATE_COLUMNS:
            shown = [_significant(v, SIGNIFICANT) for v in values]
        elif rounded:
            shown = [_fixed(v, DECIMALS) for v in values]
        elif name in summed:
            shown = [_fixed(v, DECIMALS) for v in round_to_total(values, DECIMALS)]
        else:
            shown = [_fixed(round_half(v, DECIMALS), DECIMALS) for v in values]
        for i, text in zip(at, shown, strict=True):
            out[i][j] = text.replace(".", locale.decimal)
    return out


def _fixed(value: float, digits: int) -> str:
    """Return ``value`` with exactly ``digits`` decimals and a point; never ``-0.00``."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _significant(value: float, digits: int) -> str:
    """Return ``value`` to ``digits`` significant digits with a point, never an exponent.

    Trailing zeros after the point are dropped (``0.0319408``, ``31.9408``, ``0.5``).
    """
    if value == 0:
        return "0"
    d = Decimal(repr(value))
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), ROUND_HALF_UP)
    text = format(q, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- .odc ---------------------------------------------------------------------------------

#: XML-escape double quotes too (attribute values)
QUOTE = {'"': "&quot;"}
#: what Power Query reads a feed's numbers with, by decimal mark (no thousands separators)
CULTURES = {".": "en-US", ",": "fr-FR"}
#: query names an .odc accepts (Excel query and table names)
QUERY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\- ]{0,119}")


def odc_text(feed_url: str, query_name: str) -> str:
    """Return an Office Data Connection file (.odc) that loads the CSV at ``feed_url``.

    Excel opens it as a Power Query connection (provider ``Microsoft.Mashup.OleDb.1``,
    [MS-ODCFF] ``PowerQueryConnection`` and ``PowerQueryMashupData``) and loads the query
    ``query_name`` into a table; Data > Queries & Connections shows it, Refresh re-reads the
    URL. The query reads the CSV as UTF-8 with the separator of the URL's ``locale`` (``,``
    without one), promotes the headers, turns empty cells into nulls and types every column
    but the text ones (:data:`TEXT_COLUMNS`) as numbers read with the feed's decimal mark,
    ``gain_proven`` as true/false, so Excel in any language gets numbers. ``feed_url`` must
    be an absolute http(s) URL; a query name is letters, digits, ``_ . -`` and spaces.
    """
    locale = _checked_url(feed_url)
    if not QUERY_NAME.fullmatch(query_name):
        raise ExportError(
            f"query name {query_name!r}: use letters, digits, '_', '.', '-' and spaces, "
            "starting with a letter or '_' (at most 120 characters)"
        )
    mashup = _mashup_xml(query_name, m_formula(feed_url, locale))
    location = f'"{query_name}"' if " " in query_name else query_name
    name = escape(query_name)
    return ODC_TEMPLATE.format(
        name=name,
        location=escape(location, QUOTE),
        mashup=escape(mashup, QUOTE),
    )


def _checked_url(feed_url: str) -> Locale:
    """Return the locale a feed URL asks for (``en`` when none); ExportError if it is bad."""
    parts = urlsplit(feed_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or '"' in feed_url:
        raise ExportError(
            f"feed URL {feed_url!r}: an .odc needs the feed's absolute http(s) URL, "
            "as the service gives it"
        )
    asked = parse_qs(parts.query).get("locale")
    return check_locale(asked[-1] if asked else None) or LOCALES["en"]


def m_formula(feed_url: str, locale: Locale) -> str:
    """Return the Power Query (M) formula that reads the feed at ``feed_url`` into a table."""
    url = feed_url.replace('"', '""')  # an M string literal
    text = ", ".join(f'"{c}"' for c in TEXT_COLUMNS + LOGICAL_COLUMNS)
    logical = ", ".join(f'"{c}"' for c in LOGICAL_COLUMNS)
    delimiter = locale.delimiter.replace('"', '""')
    return (
        "let\n"
        f'    Source = Csv.Document(Web.Contents("{url}"), [Delimiter="{delimiter}", '
        "Encoding=65001, QuoteStyle=QuoteStyle.Csv]),\n"
        "    Promoted = Table.PromoteHeaders(Source, [PromoteAllScalars=true]),\n"
        "    Columns = Table.ColumnNames(Promoted),\n"
        '    Blanks = Table.ReplaceValue(Promoted, "", null, Replacer.ReplaceValue, Columns),\n'
        f"    Numbers = List.Difference(Columns, {{{text}}}),\n"
        f"    Logicals = List.Intersect({{Columns, {{{logical}}}}}),\n"
        "    Typed = Table.TransformColumnTypes(Blanks, "
        "List.Transform(Numbers, each {_, type number}) & "
        f'List.Transform(Logicals, each {{_, type logical}}), "{CULTURES[locale.decimal]}")\n'
        "in\n"
        "    Typed"
    )


def _mashup_xml(query_name: str, formula: str) -> str:
    """Return the [MS-QDEIF] Mashup XML holding one query ``query_name`` with ``formula``."""
    cdata = formula.replace("]]>", "]]]]><![CDATA[>")
    return (
        '<Mashup xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns="http://schemas.microsoft.com/DataMashup">'
        "<Client>EXCEL</Client><Version>2.116.622.0</Version><MinVersion>2.21.0.0</MinVersion>"
        "<Culture>en-US</Culture><SafeCombine>true</SafeCombine><Items>"
        f'<Query Name="{escape(query_name, QUOTE)}">'
        f"<Formula><![CDATA[{cdata}]]></Formula>"
        '<IsParameterQuery xsi:nil="true" /><IsDirectQuery xsi:nil="true" />'
        "</Query></Items></Mashup>"
    )


#: the .odc file: HTML whose ``<xml id="msodc">`` block is the connection ([MS-ODCFF]);
#: every attribute quoted and every element closed, so it also parses as XML
ODC_TEMPLATE = """\
<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/x-ms-odc; charset=utf-8" />
<meta name="ProgId" content="ODC.Database" />
<meta name="SourceType" content="OLEDB" />
<title>Query - {name}</title>
<xml id="docprops"><o:DocumentProperties
  xmlns:o="urn:schemas-microsoft-com:office:office"
  xmlns="http://www.w3.org/TR/REC-html40">
  <o:Description>Connection to the '{name}' query in the workbook.</o:Description>
  <o:Name>Query - {name}</o:Name>
 </o:DocumentProperties>
</xml><xml id="msodc"><odc:OfficeDataConnection
  xmlns:odc="urn:schemas-microsoft-com:office:odc"
  xmlns="http://www.w3.org/TR/REC-html40">
  <odc:PowerQueryConnection odc:Type="OLEDB">
   <odc:ConnectionString>Provider=Microsoft.Mashup.OleDb.1;Data Source=$Workbook$;Location={location};Extended Properties=&quot;&quot;</odc:ConnectionString>
   <odc:CommandType>SQL</odc:CommandType>
   <odc:CommandText>SELECT * FROM [{name}]</odc:CommandText>
  </odc:PowerQueryConnection>
  <odc:PowerQueryMashupData>{mashup}</odc:PowerQueryMashupData>
 </odc:OfficeDataConnection>
</xml>
</head>
<body></body>
</html>
"""


__all__ = [
    "FEEDS",
    "LOCALES",
    "Locale",
    "check_locale",
    "feed_csv_text",
    "feed_table",
    "m_formula",
    "odc_text",
    "supported_locales",
]
