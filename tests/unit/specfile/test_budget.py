"""The loader's budgets count what a spec expands to, and leave ordinary aliases alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.specfile.budget import DEFAULT_BUDGET, Budget
from engine.specfile.interpolate import Interpolator
from engine.specfile.yaml_loader import load_yaml


def _load(tmp_path: Path, text: str | bytes, budget: Budget = DEFAULT_BUDGET) -> object:
    path = tmp_path / "spec.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_yaml(path, Interpolator({}), budget).data


def test_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    """The budgeted loader still expands YAML aliases and `<<` merge keys as YAML defines them."""
    data = _load(
        tmp_path,
        "base: &base {timeout: 5, retry: {transient: {attempts: 2}}}\n"
        "a: {<<: *base, batch_size: 10}\n"
        "b: [*base, *base]\n",
    )
    assert data == {
        "base": {"timeout": 5, "retry": {"transient": {"attempts": 2}}},
        "a": {"timeout": 5, "retry": {"transient": {"attempts": 2}}, "batch_size": 10},
        "b": [{"timeout": 5, "retry": {"transient": {"attempts": 2}}}] * 2,
    }


def test_an_alias_is_charged_the_size_of_what_it_repeats(tmp_path: Path) -> None:
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a]\n"  # 1 + 2 + 10 + 2 + 30 nodes
    assert _load(tmp_path, text, Budget(max_nodes=45)) is not None
    with pytest.raises(SpecError, match=r"spec.yaml:2:13: refused: alias \*a repeats 10 values"):
        _load(tmp_path, text, Budget(max_nodes=40))


def test_a_merge_key_is_charged_like_an_alias(tmp_path: Path) -> None:
    text = "a: &a {x: 1, y: 2}\nb: {<<: *a}\nc: {<<: [*a, *a]}\n"
    with pytest.raises(SpecError, match=r"spec.yaml:3:10: refused: alias \*a"):
        _load(tmp_path, text, Budget(max_nodes=20))


def test_depth_counts_through_aliases(tmp_path: Path) -> None:
    text = "a: &a [[[1]]]\nb: [[*a]]\n"  # b reaches 1 + 2 + 3 levels
    assert _load(tmp_path, text, Budget(max_depth=6)) is not None
    with pytest.raises(SpecError, match=r"spec.yaml:2:6: refused: alias \*a nests the spec deeper"):
        _load(tmp_path, text, Budget(max_depth=5))


def test_size_is_refused_before_reading_the_whole_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="larger than the 1 KiB"):
        _load(tmp_path, "# x\n" * 1000, Budget(max_bytes=1 << 10))


def test_a_nul_byte_is_located(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec.yaml:2:6: invalid YAML: a NUL byte \(U\+0000\)"):
        _load(tmp_path, b"a: 1\nb: 'x\x00'\n")


def test_not_utf8_is_located(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec.yaml:3:1: the spec is not UTF-8"):
        _load(tmp_path, "a: 1\nb: 台\n".encode() + b"\xff")
