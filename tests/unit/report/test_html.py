"""The HTML report as a reader gets it: self-contained, escaped, exact figures, charts, and an empty window."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from shadow.report.html import (
    CandidateScore,
    Distribution,
    HourlyRates,
    ReportData,
    WorstExample,
    format_value,
    render_report,
)

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "report_fixture.json"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# One similarity, one length-ratio and one latency histogram per candidate, plus six charts over time.
CHARTS_PER_CANDIDATE = 3
TIMESERIES_CHARTS = 6


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag: str | None = None, **attrs: str) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and all(child.attrs.get(k) == v for k, v in attrs.items()):
                    yield child
                yield from child.iter(tag, **attrs)

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        found = next(self.iter(tag, **attrs), None)
        assert found is not None, f"no <{tag}> with {attrs}"
        return found


class TreeBuilder(HTMLParser):
    """A strict little DOM: every end tag must close the innermost open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(document: str) -> Node:
    builder = TreeBuilder()
    builder.feed(document)
    builder.close()
    assert builder.errors == []
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements"
    return builder.root


def empty_data() -> ReportData:
    return ReportData(
        title="shadow report",
        generated_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
        window_start=datetime(2026, 11, 22, 9, tzinfo=UTC),
        window_end=datetime(2026, 11, 23, 9, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The fixture as JSON: the expected figures."""
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def data(raw: dict[str, Any]) -> ReportData:
    return ReportData.from_dict(raw)


@pytest.fixture(scope="module")
def document(data: ReportData) -> str:
    return render_report(data)


@pytest.fixture(scope="module")
def tree(document: str) -> Node:
    return parse(document)


def test_the_fixture_follows_the_contract(raw: dict[str, Any], data: ReportData) -> None:
    roles = [c["role"] for c in raw["candidates"]]
    assert len(roles) == 3 and roles.count("control") == 1
    assert len(raw["gate"]) == 2
    assert len({row["hour"] for row in raw["timeseries"]}) == 24
    assert all(len(values) >= 100 for d in raw["distributions"].values() for values in d.values())
    assert len(raw["worst"]) == 5
    assert any(re.search(r"[\u4e00-\u9fff]", w["production_text"]) for w in raw["worst"])
    assert any("<script>alert(1)</script>" in w["candidate_text"] for w in raw["worst"])
    # Every key of the fixture has a field in the typed input: nothing is silently dropped.
    assert set(raw["candidates"][0]) == {f.name for f in fields(CandidateScore)}
    assert set(raw["worst"][0]) == {f.name for f in fields(WorstExample)}
    assert set(raw["timeseries"][0]) == {f.name for f in fields(HourlyRates)}
    assert [c.candidate for c in data.candidates] == [c["candidate"] for c in raw["candidates"]]


def test_the_report_is_one_balanced_html_document(tree: Node) -> None:
    html = tree.find("html")
    assert [c.tag for c in html.children if isinstance(c, Node)] == ["head", "body"]
    body = html.find("body")
    assert [s.attrs["id"] for s in body.iter("section")] == ["gate", "scorecard", "distributions", "over-time", "worst"]
    assert html.find("title").text() == "shadow report — support assistant rollout"


def test_nothing_is_fetched_at_view_time(document: str, tree: Node) -> None:
    assert not list(tree.iter("script")), "the report runs no script"
    for tag in ("link", "img", "iframe", "object", "embed", "image", "use", "audio", "video", "source"):
        assert not list(tree.iter(tag)), f"<{tag}> would load a resource"
    for node in tree.iter():
        for name in ("src", "srcset", "href", "xlink:href", "action", "poster", "data"):
            if name in node.attrs:
                assert node.attrs[name].startswith("#"), f"<{node.tag} {name}={node.attrs[name]!r}>"
    style = "".join(node.text() for node in tree.iter("style"))
    assert "@import" not in style and "url(" not in style
    assert not re.search(r"https?://", document)
    csp = tree.find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert csp.startswith("default-src 'none';")


def test_every_candidate_appears_in_every_section(raw: dict[str, Any], tree: Node) -> None:
    names = [c["candidate"] for c in raw["candidates"]]
    scorecard = tree.find("section", id="scorecard")
    for table in scorecard.iter("table"):
        assert [tr.attrs["data-candidate"] for tr in table.iter("tr") if "data-candidate" in tr.attrs] == names
    distributions = tree.find("section", id="distributions")
    assert [h.attrs["data-candidate"] for h in distributions.iter("h3")] == names
    over_time = tree.find("section", id="over-time")
    for svg in over_time.iter("svg"):
        legend = svg.find("g", **{"class": "legend"}).text()
        assert all(name in legend for name in names)
    control = scorecard.find("tr", **{"data-role": "control"})
    assert control.attrs["data-candidate"] == "control-gpt-4o"
    assert "control" in control.find("th").text()


def test_gate_cards_show_verdicts_scores_and_every_rule(raw: dict[str, Any], tree: Node) -> None:
    gate = tree.find("section", id="gate")
    for result in raw["gate"]:
        card = gate.find("article", **{"data-candidate": result["candidate"]})
        assert result["verdict"] in card.attrs["class"].split()
        assert card.find("span", **{"data-verdict": result["verdict"]}).text() == result["verdict"]
        score = card.find(**{"data-metric": "score"})
        assert json.loads(score.attrs["data-value"]) == result["score"]
        rows = list(card.find("tbody").iter("tr"))
        assert len(rows) == len(result["rules"])
        for row, rule in zip(rows, result["rules"], strict=True):
            assert row.attrs["data-rule"] == rule["name"]
            assert row.find("span").text() == rule["outcome"]
            assert row.find("td", **{"class": "reason"}).text() == rule["reason"]
            assert json.loads(row.find(**{"data-metric": rule["metric"]}).attrs["data-value"]) == rule["estimate"]
            assert json.loads(row.find(**{"data-metric": "interval"}).attrs["data-value"]) == rule["interval"]
            assert json.loads(row.find(**{"data-metric": "n"}).attrs["data-value"]) == rule["n"]
            assert rule["threshold"] in row.text()


def test_scorecard_cells_carry_exactly_the_fixture_numbers(raw: dict[str, Any], tree: Node) -> None:
    scorecard = tree.find("section", id="scorecard")
    checked = 0
    for candidate in raw["candidates"]:
        for row in scorecard.iter("tr", **{"data-candidate": candidate["candidate"]}):
            for cell in row.iter("td"):
                metric = cell.attrs["data-metric"]
                assert json.loads(cell.attrs["data-value"]) == candidate[metric], (candidate["candidate"], metric)
                shown = cell.children[0]
                assert shown == format_value(metric, candidate[metric])
                checked += 1
    assert checked == 3 * (len(raw["candidates"][0]) - 2)  # every metric but the name and the role


@pytest.mark.parametrize(
    ("candidate", "metric", "shown"),
    [
        ("gpt-4.1-mini", "compared", "4,812"),
        ("gpt-4.1-mini", "error_rate", "1.3%"),
        ("gpt-4.1-mini", "candidate_latency_p99_ms", "12,982"),
        ("gpt-4.1-mini", "candidate_cost_per_request_usd", "$0.000687"),
        ("claude-haiku-4-5", "candidate_cost_per_request_usd", "$0.00123"),
        ("claude-haiku-4-5", "candidate_schema_valid_rate", "–"),
        ("claude-haiku-4-5", "similarity_p50", "0.662"),
        ("control-gpt-4o", "production_latency_p95_ms", "2,140"),
    ],
)
def test_figures_read_as_documented(tree: Node, candidate: str, metric: str, shown: str) -> None:
    rows = tree.find("section", id="scorecard").iter("tr", **{"data-candidate": candidate})
    [cell] = [cell for row in rows for cell in row.iter("td", **{"data-metric": metric})]
    assert cell.children[0] == shown


def test_candidate_rows_show_the_control_value_beside_their_own(tree: Node) -> None:
    row = tree.find("section", id="scorecard").find("tr", **{"data-candidate": "gpt-4.1-mini"})
    cell = row.find("td", **{"data-metric": "error_rate"})
    assert cell.find("span", **{"class": "vs"}).text() == "ctrl 0.2%"
    control = tree.find("section", id="scorecard").find("tr", **{"data-candidate": "control-gpt-4o"})
    assert not list(control.iter("span", **{"class": "vs"}))


def test_charts_are_inline_svg_with_labels_legends_and_descriptions(raw: dict[str, Any], tree: Node) -> None:
    charts = list(tree.iter("svg"))
    assert len(charts) == CHARTS_PER_CANDIDATE * len(raw["distributions"]) + TIMESERIES_CHARTS
    ids = [node.attrs["id"] for node in tree.iter() if "id" in node.attrs]
    assert len(ids) == len(set(ids))
    for svg in charts:
        assert svg.attrs["role"] == "img" and svg.attrs["aria-label"]
        title, desc = svg.find("title"), svg.find("desc")
        assert svg.attrs["aria-labelledby"] == title.attrs["id"] and svg.attrs["aria-describedby"] == desc.attrs["id"]
        assert len(desc.text()) > 40
        assert len(list(svg.iter("text", **{"class": "axis-label"}))) == 2, "x and y axis titles"
        assert svg.find("g", **{"class": "legend"}).text()
        assert list(svg.iter("rect")) or list(svg.iter("polyline")), "bars or lines are drawn"


def test_histograms_count_every_value(raw: dict[str, Any], tree: Node) -> None:
    distributions = tree.find("section", id="distributions")
    similarity = next(distributions.iter("svg"))
    total = 0
    for rect in similarity.iter("rect"):
        if rect.children:  # bars carry a tooltip; the legend swatch does not
            total += int(rect.find("title").text().rsplit(": ", 1)[1].replace(",", ""))
    assert total == len(raw["distributions"]["control-gpt-4o"]["similarity"])


def test_text_is_escaped_never_markup(raw: dict[str, Any], document: str, tree: Node) -> None:
    assert "<script>alert(1)</script>" not in document
    assert "<img src=x" not in document
    example = tree.find("article", **{"data-event-id": raw["worst"][4]["event_id"]})
    candidate_side = example.find("div", **{"class": "side candidate"})
    assert "<script>alert(1)</script>" in candidate_side.text()
    assert "<img src=x onerror=alert(2)>" in example.find("header").text()
    assert "markup changed <b>&amp;</b>" in example.find("header").text()


def _example(event_id: str, production_text: str, candidate_text: str, **rest: Any) -> WorstExample:
    return WorstExample("a", "w", event_id, "r", production_text=production_text, candidate_text=candidate_text, **rest)


def test_word_differences_are_marked_on_each_side() -> None:
    data = replace(
        empty_data(),
        worst=(
            _example("e1", "The cat sat on the mat.", "The dog sat on the red mat.", similarity=0.5),
            _example("e2", "您的订单已发货。", "您的订单未发货。", similarity=None, json_diff_paths=("$.status",)),
        ),
    )
    tree = parse(render_report(data))
    english, chinese = tree.iter("article")
    production, candidate = (
        english.find("div", **{"class": "side production"}),
        english.find("div", **{"class": "side candidate"}),
    )
    assert [d.text() for d in production.iter("del")] == ["cat"]
    assert [i.text() for i in candidate.iter("ins")] == ["dog", "red"]
    assert not list(production.iter("ins")) and not list(candidate.iter("del"))
    assert production.find("div", **{"class": "text"}).text() == "The cat sat on the mat."
    assert [d.text() for d in chinese.iter("del")] == ["已"]
    assert [i.text() for i in chinese.iter("ins")] == ["未"]
    assert chinese.find("span", **{"data-metric": "similarity"}).text() == "–"
    assert "$.status" in chinese.text()


def test_long_texts_are_cut_with_a_note() -> None:
    long_text = "word " * 1000
    data = replace(empty_data(), worst=(_example("e", long_text, "short", similarity=0.1),))
    tree = parse(render_report(data))
    production = tree.find("div", **{"class": "side production"})
    assert len(production.find("div", **{"class": "text"}).text()) <= 1500
    assert production.find("p", **{"class": "note"}).text() == "Truncated: showing the first 1,499 of 5,000 characters."
    assert not list(tree.find("div", **{"class": "side candidate"}).iter("p"))


def test_an_empty_window_renders_and_says_so() -> None:
    document = render_report(empty_data())
    tree = parse(document)
    assert "No data in this window." in tree.find("body").text()
    assert "<svg" not in document
    for section in tree.iter("section"):
        assert section.find("p", **{"class": "empty"}).text()
    assert "2026-11-22 09:00 UTC" in tree.find("header").text()


def test_missing_figures_and_none_numbers_render_as_dashes() -> None:
    row = CandidateScore("only", "candidate", compared=None, error_rate=float("nan"))
    tree = parse(render_report(ReportData(candidates=(row,))))
    cell = tree.find("td", **{"data-metric": "error_rate"})
    assert cell.attrs["data-value"] == "null" and cell.text() == "–"
    assert tree.find("td", **{"data-metric": "tool_f1"}).text() == "–"
    assert "all time" in tree.find("header").text()


def test_a_timeseries_with_one_hour_and_gaps_still_draws() -> None:
    data = replace(
        empty_data(),
        candidates=(CandidateScore("solo", "candidate"),),
        timeseries=(HourlyRates(datetime(2026, 11, 23, 8, tzinfo=UTC), "solo", compared=5, error_rate=None),),
    )
    charts = list(parse(render_report(data)).iter("svg"))
    assert len(charts) == TIMESERIES_CHARTS
    assert len(list(charts[0].iter("circle"))) == 1
    assert "no values" in charts[1].text()


def test_file_size_does_not_grow_with_distribution_length(data: ReportData, document: str) -> None:
    big = replace(
        data,
        distributions={
            name: Distribution(
                **{key: tuple(values[i % len(values)] for i in range(20_000)) for key, values in asdict(lists).items()}
            )
            for name, lists in data.distributions.items()
        },
    )
    assert len(render_report(big)) < 1.05 * len(document)
    assert len(document) < 400_000
