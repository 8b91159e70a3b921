"""Spreadsheet formula injection: make text that a spreadsheet would run inert."""

from __future__ import annotations

#: first characters that make Excel, LibreOffice or Google Sheets read text as a formula
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: what makes text a formula once leading blanks (spaces, newlines...) are skipped
FORMULA_STARTS = ("=", "+", "-", "@")


def neutralise_cell(value):
    r"""Return ``value`` safe to put in a CSV or XLSX cell.

    Text whose first non-blank character is ``= + - @`` (``" =1+2"``, ``"\n=cmd"`` too), or
    that starts with a tab or a carriage return, is prefixed with ``'`` so a spreadsheet shows
    it as text instead of evaluating it. Numbers, ``None`` and other text come back unchanged.

    >>> neutralise_cell("=1+2")
    "'=1+2"
    >>> neutralise_cell("meta")
    'meta'
    >>> neutralise_cell(-5.0)
    -5.0
    """
    if isinstance(value, str) and (
        value.startswith(DANGEROUS_PREFIXES) or value.lstrip().startswith(FORMULA_STARTS)
    ):
        return "'" + value
    return value
