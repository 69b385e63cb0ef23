"""Every example request body of the OmniSegment reference, with its page and line.

Sources: the `curl ... --data-raw '{...}'` blocks of the Markdown pages, the request examples of the
OpenAPI files, and the app examples of Event-Tracking-API.md (their body is the page's `baseInfo`
plus the event given to `trackAnalytics`). Examples that are not valid JSON as printed are read
with the repairs listed in each entry's `repairs`, so what the page meant is what gets checked.

Regenerate the checked-in corpus from a copy of the vendor's pages:

    python -m tests.corpora.reference_examples PAGES_DIR > tests/corpora/reference_examples.json
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

CORPUS = Path(__file__).with_name("reference_examples.json")

_CURL_URL = re.compile(r"curl\b.*?'(https?://[^']+)'")
_DATA_START = re.compile(r"--data(?:-raw)?\s+'")
_HEADER = re.compile(r"--header\s+'([^:']+):\s*([^']*)'")

# (what the page printed, what it meant, how the repair is named in the corpus)
_TEXT_REPAIRS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\btrue \| false\b"), "true", "`true | false` (a choice) read as true"),
    (re.compile(r'"(\w+): "'), r'"\1": "', "a key's closing quote restored"),
    (re.compile(r'"products":\{'), '"products": [{', "the products list's opening [ restored"),
    (re.compile(r"^\s*\.\.\.\s*,?\s*\n", re.M), "", "the `...` placeholder dropped"),
    (re.compile(r"\]\s*\n(\s*)\""), '],\n\\1"', "a missing comma after a list restored"),
)
_TRAILING_COMMA = re.compile(r",\s*[}\]]")
# Report requests of openapi.yaml: not imports, omnisync sends none of them (the workflow trigger
# is an endpoint since it fires events: docs/triggers.md).
NOT_IMPORTS = frozenset(
    {
        "/api/v1/interaction-report/",
        "/api/v1/tracking-event-report/",
        "/api/v1/audiences/interactive-audiences-report/",
    }
)


def _lenient(text: str) -> tuple[Any, list[str]]:
    """JSON as the pages print it: Python literals, single quotes and trailing commas allowed."""
    repairs = []
    if _TRAILING_COMMA.search(text):
        repairs.append("trailing commas dropped")
    out = []
    words = {"true": "True", "false": "False", "null": "None"}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and token.string in words:
            token = token._replace(string=words[token.string])
        elif token.type == tokenize.NAME and token.string in ("True", "False", "None"):
            repairs.append(f"Python literal {token.string} read as JSON")
        elif token.type == tokenize.STRING and token.string.startswith("'"):
            repairs.append("single quotes read as double quotes")
        out.append(token)
    value = ast.literal_eval(tokenize.untokenize(out))
    return value, sorted(set(repairs))


def parse_body(text: str) -> tuple[Any, list[str]]:
    """The body and the repairs it needed (none for valid JSON)."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError:
        pass
    repairs = []
    for pattern, replacement, name in _TEXT_REPAIRS:
        fixed = pattern.sub(replacement, text)
        if fixed != text:
            repairs.append(name)
            text = fixed
    value, more = _lenient(text)
    return value, repairs + more


def _markdown(page: Path) -> Iterator[dict[str, Any]]:
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        url_match = _CURL_URL.search(lines[i])
        if url_match is None:
            i += 1
            continue
        url = urlsplit(url_match.group(1))
        headers: dict[str, str] = {}
        j = i
        while j < len(lines) and not _DATA_START.search(lines[j]):
            headers.update(_HEADER.findall(lines[j]))
            j += 1
        start = j
        first = _DATA_START.split(lines[j], maxsplit=1)[1]
        body_lines = [first]
        while not lines[j].rstrip().endswith("}'"):
            j += 1
            body_lines.append(lines[j])
        body_lines[-1] = body_lines[-1].rstrip()[:-1]
        body, repairs = parse_body("\n".join(body_lines))
        yield {
            "id": f"{page.name}:{start + 1}",
            "page": page.name,
            "line": start + 1,
            "host": f"{url.scheme}://{url.netloc}",
            "path": url.path,
            "query": url.query,
            "headers": {k: v for k, v in headers.items() if k.lower() != "content-type"},
            "repairs": repairs,
            "body": body,
        }
        i = j + 1


def _node(node: yaml.Node, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if k.value == key:
            return v  # type: ignore[no-any-return]
    return None


def _openapi(path: Path, name: str) -> Iterator[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    tree = yaml.compose(text)
    loaded = yaml.safe_load(text)
    paths = _node(tree, "paths")
    assert paths is not None
    for key, item in paths.value:
        post = _node(item, "post")
        body = _node(post, "requestBody") if post is not None else None
        if body is None or key.value in NOT_IMPORTS:
            continue
        media = loaded["paths"][key.value]["post"]["requestBody"]["content"]["application/json"]
        media_node = _node(_node(body, "content"), "application/json")  # type: ignore[arg-type]
        assert media_node is not None
        examples = _node(media_node, "examples")
        found = [(k.value, v.start_mark.line + 1) for k, v in examples.value] if examples else []
        single = _node(media_node, "example")
        for example, line in found:
            value = media["examples"][example]["value"]
            yield _openapi_entry(name, line, key.value, example, value)
        if single is not None:
            yield _openapi_entry(
                name, single.start_mark.line + 1, key.value, None, media["example"]
            )


def _openapi_entry(
    name: str, line: int, path: str, example: str | None, value: Any
) -> dict[str, Any]:
    return {
        "id": f"{name}:{line}",
        "page": name,
        "line": line,
        "example": example,
        "host": "https://api.omnisegment.com",
        "path": path,
        "query": "",
        "headers": {},
        "repairs": [],
        "body": json.loads(json.dumps(value, default=str)),
    }


_APP_BASE = {  # Event-Tracking-API.md, trackAnalytics: the fields every app event carries
    "version": "2.0.4",
    "data_source": "app",
    "tid": "OA-xxxxx",
    "currency_code": "TWD",
    "client_id": "EA7583CD-A667-48BC-B806-42ECB2B48606-IDFV",
    "app_version": "1.3.2",
    "app_id": "com.company.app",
    "app_name": "appname",
    "document_location": "base_url",
    "uid": "user_id",
}
_APP_EVENTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    # (a line the page holds, hit_type, the event given to trackAnalytics)
    (
        'trackAnalytics(event: ["event_action": "ViewContent"',
        "pageview",
        {"event_action": "ViewContent", "event_category": "Ecommerce"},
    ),
    (
        'trackAnalytics(event: ["event_action": "ButtonClick"',
        "event",
        {"event_action": "ButtonClick", "event_category": "Interaction"},
    ),
    (
        "val pageViewEvent: HashMap<String, Any> = hashMapOf(",
        "pageview",
        {"event_action": "ViewContent", "event_category": "Ecommerce"},
    ),
    (
        "val clickEvent: HashMap<String, Any> = hashMapOf(",
        "event",
        {"event_action": "ButtonClick", "event_category": "Interaction"},
    ),
    (
        "event_action: 'ViewContent',",
        "pageview",
        {
            "event_action": "ViewContent",
            "event_category": "Ecommerce",
            "products": [{"id": "DCAN8J-A90097H2N", "name": "羅技 M221 靜音無線滑鼠"}],
            "document_title": "iloom 系列商品",
        },
    ),
    (
        "event_action: 'CompleteRegistration',",
        "event",
        {
            "event_action": "CompleteRegistration",
            "event_category": "CompleteRegistration",
            "event_label": json.dumps({"email": "example@gmail.com"}),
        },
    ),
)


def _app_examples(page: Path) -> Iterator[dict[str, Any]]:
    lines = page.read_text(encoding="utf-8").splitlines()
    for marker, hit_type, event in _APP_EVENTS:
        number = next(i for i, line in enumerate(lines, 1) if marker in line)
        yield {
            "id": f"{page.name}:{number}",
            "page": page.name,
            "line": number,
            "host": "https://api.omnisegment.com",
            "path": "/api/v1/beacon/track-event/",
            "query": "",
            "headers": {"X-OmniSegment-Api-Key": "xxxxxxxxxxxxxxx"},
            "repairs": ["app example: the page's base fields plus the event it tracks"],
            "body": {**_APP_BASE, "hit_type": hit_type, **event},
        }


def extract(pages: Path) -> list[dict[str, Any]]:
    examples = []
    for page in sorted(pages.glob("*.md")):
        examples.extend(_markdown(page))
    examples.extend(_app_examples(pages / "Event-Tracking-API.md"))
    for spec in [pages / "openapi.yaml", *sorted((pages / "openapi").glob("*.yaml"))]:
        examples.extend(_openapi(spec, spec.relative_to(pages).as_posix()))
    return examples


def load() -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))
    return examples


if __name__ == "__main__":
    corpus = extract(Path(sys.argv[1]))
    sys.stdout.write(json.dumps(corpus, ensure_ascii=False, indent=1) + "\n")
