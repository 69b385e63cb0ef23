"""The state's identity: a spec's path in its repository, its account, or the scope it names."""

from __future__ import annotations

from pathlib import Path

from engine.state.identity import spec_place, state_identity


def test_the_path_in_the_repository_survives_a_checkout_elsewhere(tmp_path: Path) -> None:
    for checkout in ("ci-1", "ci-2"):
        spec = tmp_path / checkout / "teams" / "tw" / "members.yaml"
        spec.parent.mkdir(parents=True)
        spec.touch()
        (tmp_path / checkout / ".git").mkdir()
        assert spec_place(spec)[0] == "teams/tw/members.yaml"


def test_a_git_file_marks_a_worktree_or_submodule_root(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: /elsewhere/.git/worktrees/wt\n")
    spec = tmp_path / "wt" / "sync.yaml"
    spec.touch()
    assert spec_place(spec) == ("sync.yaml", "its path in its git repository")


def test_outside_any_repository_the_absolute_path(tmp_path: Path) -> None:
    spec = tmp_path / "sync.yaml"
    spec.touch()
    place, origin = spec_place(spec)
    assert place == spec.resolve().as_posix()
    assert origin.startswith("its absolute path")


def test_accounts_and_an_explicit_scope(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "jp").mkdir()
    spec = tmp_path / "jp" / "members.yaml"
    spec.touch()
    jp = state_identity(spec, None, ["OA-jp"])
    assert (jp.scope, jp.key("members")) == (
        "jp/members.yaml[OA-jp]",
        "jp/members.yaml[OA-jp]:members",
    )
    assert jp.former_key("members") == "members.yaml:members"
    assert state_identity(spec, None, ["b", "a", "b"]).scope == "jp/members.yaml[a+b]"
    assert state_identity(spec).scope == "jp/members.yaml"
    named = state_identity(spec, "nightly", ["OA-jp"])
    assert (named.scope, named.origin) == ("nightly", "state.scope in the spec")
    assert jp.sync_of("jp/members.yaml[OA-jp]:orders") == "orders"
    assert jp.sync_of("jp/members.yaml[OA-jp]:x:orders") is None  # another scope's key
    assert jp.sync_of("tw/members.yaml[OA-tw]:orders") is None
