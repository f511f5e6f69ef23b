"""The results files of a run: results.json (written atomically, also after
each scenario as a partial result), then the SVGs and results.md from it."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from .markdown import write_markdown
from .svg import write_svgs


def write_outputs(results: dict[str, Any], out: Path, started: float, partial: bool) -> None:
    results["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    results["partial"] = partial
    tmpf = out / "results.json.tmp"
    tmpf.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmpf, out / "results.json")
    write_svgs(results, out)
    write_markdown(results, out / "results.md")
