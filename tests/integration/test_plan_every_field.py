"""`omnisync plan` names every failing field of a rejected row, not only the first."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import invoke_cli

SPEC = """\
version: 1
omnisegment: {environment: sandbox}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience}
    mapping:
      member_sn: id
      phone: {from: mobile, transforms: [{phone: {region: TW}}]}
      email: {from: mail, transforms: [email]}
      birthday: {from: dob, transforms: [date]}
      sex: sex
      is_subscriber: subscribed
"""


def test_plan_lists_every_mapping_failure_and_every_refused_field(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_text(
        "id,mobile,mail,dob,sex,subscribed\n"
        "M1,not a phone,not an email,1990-02-30,male,true\n"  # three transforms fail
        "M2,0912345678,a@example.com,1990-01-02,robot,maybe\n",  # the endpoint refuses two
        encoding="utf-8",
    )
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")

    result = invoke_cli("plan", "spec.yaml", "--reveal-pii", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    first, second = [line for line in result.stdout.splitlines() if "REJECTED" in line]
    assert first == (
        "members.csv:2  REJECTED phone: phone: cannot parse 'not a phone': not a phone number; "
        "email: email: not a valid address: 'not an email'; "
        "birthday: date: '1990-02-30' does not match iso"
    )
    assert second == (
        "members.csv:3  REJECTED sex: 'robot' is not one of 'male', 'female'; "
        "is_subscriber: 'maybe' is text, expected true or false: map it with `cast: bool`"
    )
