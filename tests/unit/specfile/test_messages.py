"""Messages that say what to do: the usual slips in a spec get a hint naming the line to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke_cli

HEAD = "version: 1\nomnisegment: {environment: sandbox}\nsyncs:\n  - name: members\n"
SOURCE = "    source: {csv: {path: members.csv}}\n"


def _validate(tmp_path: Path, text: str) -> str:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    (tmp_path / "members.csv").write_text("id,email\nM1,a@example.com\n", encoding="utf-8")
    result = invoke_cli("validate", "--offline", str(spec))
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    return result.stderr.replace(f"{spec}:", "")


def test_an_unknown_environment_gets_the_reference_names_not_a_far_fetched_guess(
    tmp_path: Path,
) -> None:
    """'taiwan' is no typo of 'staging': no did-you-mean, but what each environment is."""
    text = (HEAD + SOURCE).replace("environment: sandbox", "environment: taiwan")
    text += "    destination: {endpoint: audience}\n    mapping: {member_sn: id}\n"

    stderr = _validate(tmp_path, text)

    assert "staging'?" not in stderr
    assert "'taiwan' is not one of 'jp', 'sandbox', 'staging', 'tw' (tw: Taiwan production" in (
        stderr
    )


def test_a_tab_indent_says_yaml_indents_with_spaces(tmp_path: Path) -> None:
    text = HEAD + SOURCE + "    destination:\n\tendpoint: audience\n    mapping: {member_sn: id}\n"

    stderr = _validate(tmp_path, text)

    assert stderr.startswith("7:1: invalid YAML:")
    assert "line 7 is indented with a tab: YAML indents with spaces; replace the tab" in stderr


def test_a_dedented_endpoint_is_told_to_go_under_destination(tmp_path: Path) -> None:
    text = (
        HEAD + SOURCE + "    destination:\n    endpoint: audience\n    mapping: {member_sn: id}\n"
    )

    stderr = _validate(tmp_path, text)

    assert (
        "6:17 syncs[0].destination: expected a mapping, got null (nothing is written after it "
        "or indented under it)"
    ) in stderr
    assert (
        "7:5 syncs[0].endpoint: unknown key 'endpoint'; if it belongs under 'destination:' "
        "(line 6, empty), indent it deeper than 'destination:'"
    ) in stderr


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            "    destination:\n      endpoint: audience\n     mapping: {member_sn: id}\n",
            "8:6: invalid YAML: did not find expected key (line 8 starts in column 6, where no "
            "block above starts: move it to column 5 or 7",
        ),
        (
            "    destination: {endpoint: audience}\n    mapping:\n      member_sn: id\n"
            "       email: email\n",
            "line 9 is indented deeper than line 8 above, so YAML reads it as part of that line's "
            "value: start it in column 7, as line 8",
        ),
    ],
    ids=["between-two-blocks", "deeper-than-the-key-above"],
)
def test_a_mis_indented_line_is_named_with_the_column_to_use(
    tmp_path: Path, lines: str, expected: str
) -> None:
    stderr = _validate(tmp_path, HEAD + SOURCE + lines)

    assert expected in stderr


@pytest.mark.parametrize(
    ("written", "meant"), [("<>", "!="), ("&&", "and"), ("||", "or"), ("===", "==")]
)
def test_a_filter_with_another_language_s_operator_says_which_to_use(
    tmp_path: Path, written: str, meant: str
) -> None:
    text = HEAD + SOURCE + "    destination: {endpoint: audience}\n"
    text += f'    filter: "email {written} id"\n    mapping: {{member_sn: id}}\n'

    stderr = _validate(tmp_path, text)

    assert f"{written} is not an operator here: use {meant}" in stderr
