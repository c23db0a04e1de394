"""`make bench`'s pushes-per-consultation figure: an expert answering within 50 s of the
user's message answers by free reply, so a consultation spends half the pushes it did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.bench import SECRET, TOKEN, pushes_per_consultation
from devtools.linesim import LineSimulator
from shared.adapters.sqlite_store import SqliteStore


def test_pushes_per_consultation_is_printed_before_and_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    try:
        pushes_per_consultation(SqliteStore(str(tmp_path / "pushes.sqlite3")), sim)
    finally:
        sim.stop()
    title, within, later = capsys.readouterr().out.splitlines()
    assert title.startswith("LINE pushes per consultation")
    found = [re.search(r"(\d+) pushes \(before issue 14: 4\)", line) for line in (within, later)]
    counts = [int(m.group(1)) for m in found if m]
    assert len(counts) == 2
    assert (
        counts[0] == 2
    )  # the first answer (its token went to the acknowledgement) and the closing
    assert counts[1] >= 4  # every answer and the closing
    assert "messages by reply 3" in within  # the acknowledgement and two answers
