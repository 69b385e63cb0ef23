"""The low-water mark, without a network."""

from __future__ import annotations

from engine.run.checkpoint import Checkpointer


def test_low_water_mark_moves_only_past_contiguous_finished_rows() -> None:
    """Rows finished out of order do not move the mark until every row before them is done."""
    seen: list[tuple[int, int]] = []
    checkpoint = Checkpointer(seen.append)
    seqs = [checkpoint.issue((0, line)) for line in range(2, 8)]
    checkpoint.finish_all(seqs[2:4])
    assert checkpoint.low_water is None
    checkpoint.finish(seqs[0])
    assert checkpoint.low_water == (0, 2)
    checkpoint.finish(seqs[1])
    assert checkpoint.low_water == (0, 5)  # rows 3, then 4 and 5 already done
    assert seen == [(0, 2), (0, 5)]
    assert checkpoint.in_flight == 2
