"""Platform exports -> canonical ad history.

One module per format (:mod:`.meta`, :mod:`.google`, :mod:`.linkedin`, :mod:`.tiktok`,
:mod:`.improvado`, :mod:`.canonical`); :mod:`.detect` picks one by the file's own header;
:func:`ingest_files` merges files into one history and an :class:`IngestReport` that
accounts for every row read (written, merged, or skipped with its reason);
:func:`load_history` is the history alone, the one loader every command and the service use.
"""

from __future__ import annotations

from forecasting.ingest.core import IngestResult, ingest_file, ingest_files, load_history
from forecasting.ingest.detect import SOURCE_NAMES, SOURCES, Source, detect_source
from forecasting.ingest.report import SKIP_REASONS, FileReport, IngestReport

__all__ = [
    "SKIP_REASONS",
    "SOURCES",
    "SOURCE_NAMES",
    "FileReport",
    "IngestReport",
    "IngestResult",
    "Source",
    "detect_source",
    "ingest_file",
    "ingest_files",
    "load_history",
]
