"""The HTML report, opened in headless Chromium: the screenshot is not blank."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
from matplotlib import image as mpimg


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed (apt-get install chromium); the report test needs it"
    return exe


def test_report_renders_in_chromium(example_run, tmp_path):
    _, out, _ = example_run
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5  # spend x4, curves, frontier
    assert 'src="http' not in page and "<script" not in page  # self-contained
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            (out / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    img = mpimg.imread(shot)
    assert img.shape[0] == 2000 and img.shape[1] == 1200
    gray = img[..., :3].mean(axis=2)
    assert gray.std() > 0.05  # not one flat colour
    dark = (gray < 0.5).mean()
    assert 0.005 < dark < 0.6  # text and charts drawn, not a black page
    coloured = (np.ptp(img[..., :3], axis=2) > 0.3).mean()
    assert coloured > 0.005  # the charts' colours are there


def test_report_and_plan_page_share_the_rules_and_lines_tables(example_run):
    from scenarios.exports.html import ledger_section, lines_table, plan_html_text, rules_section
    from scenarios.exports.plan import plan_rows

    run, out, _ = example_run
    page = (out / "report.html").read_text()
    for v in run.variants:
        if v.plan is None:
            continue
        rules = rules_section([c.to_dict() for c in v.plan.constraints])
        lines = lines_table(plan_rows(v.plan))
        ledger = ledger_section(v.plan.to_dict())
        assert ledger and "What each rule costs" in ledger, v.name
        assert rules in page and lines in page and ledger in page, v.name
        single = plan_html_text(v.plan)
        assert rules in single and lines in single and ledger in single
