import itertools
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import jinja2
import pytest

from portal.insights import charts

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal


def euros(value: Decimal) -> str:
    return f"€ {value:,.2f}".translate(str.maketrans(",.", ".,"))


@pytest.fixture(scope="module")
def macros():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader("/work/main/templates"),
                             autoescape=True)
    charts.register(env)
    return env.get_template("macros/charts.html").module


def rendered(macros, name, *args, **kwargs) -> tuple[str, ET.Element]:
    html = str(getattr(macros, name)(*args, **kwargs))
    return html, ET.fromstring(html)  # noqa: S314 (our own markup): the figure is well-formed XML


MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun"]
EXAMPLES = {
    "bar_chart": ("Kosten 2025", "Kosten per soort, personeel het hoogst",
                  ["Personeel", "Huur", "Auto"], [D("52000"), D("18000.50"), D("-2500")],
                  euros),
    "grouped_bar_chart": ("Omzet", "Omzet per kwartaal, 2025 naast 2024", ["Q1", "Q2", "Q3"],
                          [("2024", [D(10), D(20), D(30)]), ("2025", [D(15), None, D(-5)])],
                          euros),
    "line_chart": ("Omzet per maand", "Omzet stijgt in het voorjaar", MONTHS,
                   {"2025": [D(100), D(120), None, D(140), D(180), D(175)],
                    "2024": [D(90), D(95), D(100), D(110), D(130), D(150)]}, euros),
    "stacked_bar": ("Balans", "Activa naast eigen vermogen en schulden",
                    [("Activa", [("Vaste activa", D(60000)), ("Vorderingen", D(25000)),
                                 ("Liquide middelen", D(15000))]),
                     ("Passiva", [("Eigen vermogen", D(40000)), ("Langlopende schulden",
                                                                   D(35000)),
                                  ("Kortlopende schulden", D(25000))])], euros),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_chart_is_an_accessible_svg_image(macros, name):
    _html, figure = rendered(macros, name, *EXAMPLES[name])
    svg = figure.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", svg.get("viewBox"))
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title.text == EXAMPLES[name][0] and desc.text == EXAMPLES[name][1]
    assert svg.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]


@pytest.mark.parametrize("name", EXAMPLES)
def test_charts_carry_no_inline_style_and_no_script(macros, name):
    html, _figure = rendered(macros, name, *EXAMPLES[name])
    assert "style=" not in html and "<style" not in html
    assert "<script" not in html
    for element in ET.fromstring(html).iter():  # noqa: S314 (our own markup)
        assert not any(attribute.startswith("on") for attribute in element.attrib)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_table_under_each_chart_holds_every_number(macros, name):
    _html, figure = rendered(macros, name, *EXAMPLES[name])
    details = figure.find("details")
    assert "open" not in details.attrib  # collapsed until asked for
    assert details.find("summary").text == "Show the numbers"
    cells = [td.text for td in details.iter("td")]
    args = EXAMPLES[name]
    if name == "stacked_bar":
        values = [value for _label, segments in args[2] for _segment, value in segments]
    elif name == "bar_chart":
        values = args[3]
    else:
        series = args[3].values() if isinstance(args[3], dict) else [v for _n, v in args[3]]
        values = [value for values in series for value in values]
    for value in values:
        assert (euros(value) if value is not None else charts.NO_VALUE) in cells


def test_bar_heights_are_proportional_to_their_values():
    chart = charts.bar_chart("t", "d", ["a", "b", "c"], [D(100), D(50), D("12.5")], euros)
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == pytest.approx(heights[0] / 2, abs=0.02)
    assert heights[2] == pytest.approx(heights[0] / 8, abs=0.02)


def test_the_svg_prints_the_computed_geometry(macros):
    chart = charts.bar_chart("t", "d", ["a", "b"], [D(80), D(20)], euros)
    _html, figure = rendered(macros, "bar_chart", "t", "d", ["a", "b"], [D(80), D(20)], euros)
    rects = figure.find(f"{SVG}svg").iter(f"{SVG}rect")
    assert [float(r.get("height")) for r in rects] == [bar.height for bar in chart.bars]
    assert float(chart.bars[0].height) == pytest.approx(4 * chart.bars[1].height, abs=0.02)


def test_negative_values_hang_below_the_zero_axis():
    chart = charts.bar_chart("t", "d", ["profit", "loss"], [D(300), D(-100)], euros)
    profit, loss = chart.bars
    assert profit.y + profit.height == pytest.approx(chart.zero_y)
    assert loss.y == pytest.approx(chart.zero_y)
    assert loss.height == pytest.approx(profit.height / 3, abs=0.02)
    assert "chart__bar--negative" in loss.css and "negative" not in profit.css
    assert chart.ticks[0] <= D(-100) < D(300) <= chart.ticks[-1]


@pytest.mark.parametrize(("low", "high"), [
    (D(0), D(87)), (D(-8000), D(120000)), (D("0.03"), D("0.91")), (D(-1234567), D(-1000)),
    (D(5), D(5)), (D("999.99"), D("1000.01")),
])
def test_nice_ticks_cover_the_data_and_zero_in_round_even_steps(low, high):
    ticks = charts.nice_ticks(low, high)
    assert ticks[0] <= min(low, 0) and ticks[-1] >= max(high, 0)
    assert D(0) in ticks
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    (step,) = steps
    assert step.normalize().as_tuple().digits in {(1,), (2,), (2, 5), (5,)}
    assert 3 <= len(ticks) <= 8


def test_nice_ticks_of_nothing_still_make_an_axis():
    assert charts.nice_ticks(D(0), D(0)) == [D(0), D(1)]


def test_a_missing_month_breaks_the_line_but_keeps_the_others():
    chart = charts.line_chart("t", "d", MONTHS, {"2025": [D(1), D(2), None, D(4), D(5), D(6)]},
                              euros)
    assert [len(p.points.split()) for p in chart.polylines] == [2, 3]
    assert len(chart.dots) == 5
    xs = [dot.cx for dot in chart.dots]
    assert xs == sorted(xs)
    assert chart.dots[1].cy < chart.dots[0].cy  # higher value, higher on the page


def test_more_than_one_series_gets_a_legend_and_distinct_classes():
    chart = charts.grouped_bar_chart("t", "d", ["a"], [("2024", [D(1)]), ("2025", [D(2)])],
                                     euros)
    assert [entry.label.spans[0].text for entry in chart.legend] == ["2024", "2025"]
    assert "chart__series--1" in chart.bars[0].css and "chart__series--2" in chart.bars[1].css
    single = charts.bar_chart("t", "d", ["a"], [D(1)], euros)
    assert single.legend == []


def test_balance_columns_of_equal_totals_are_equally_tall():
    chart = charts.stacked_bar("t", "d", EXAMPLES["stacked_bar"][2], euros)
    columns: dict[float, float] = {}
    for bar in chart.bars:
        columns[bar.x] = columns.get(bar.x, 0) + bar.height
    assert len(columns) == 2
    left, right = columns.values()
    assert left == pytest.approx(right, abs=0.05)
    assert chart.bars[0].height == pytest.approx(left * 0.6, abs=0.05)


def test_segment_labels_beside_a_column_do_not_overlap():
    many = [("Activa", [(f"Post {i}", D(v)) for i, v in enumerate([50000, 100, 80, 60, 40])])]
    chart = charts.stacked_bar("t", "d", many, euros)
    ys = sorted((label.spans[0].y, label.spans[-1].y) for label in chart.segment_labels)
    for (_top, bottom), (next_top, _next_bottom) in itertools.pairwise(ys):
        assert next_top - bottom >= charts.LINE - 0.01
    assert all(0 <= y <= chart.height for pair in ys for y in pair)


def test_negative_equity_stacks_below_the_zero_line():
    stacks = [("Activa", [("Bank", D(100))]),
              ("Passiva", [("Eigen vermogen", D(-50)), ("Schulden", D(150))])]
    chart = charts.stacked_bar("t", "d", stacks, euros)
    equity = next(bar for bar in chart.bars if bar.value == D(-50))
    assert equity.y == pytest.approx(chart.zero_y)
    assert equity.height == pytest.approx(chart.bars[0].height / 2, abs=0.02)


def test_long_category_names_are_slanted_short_ones_are_not():
    short = charts.bar_chart("t", "d", ["Q1", "Q2"], [D(1), D(2)], euros)
    assert all(label.transform is None for label in short.category_labels)
    names = ["Overige bedrijfskosten", "Afschrijvingen", "Personeelskosten", "Huisvesting",
             "Autokosten", "Kantoorkosten"]
    long = charts.bar_chart("t", "d", names, [D(1)] * 6, euros)
    assert all(label.transform.startswith("rotate(-45") for label in long.category_labels)
    assert all(len(label.spans[0].text) <= 16 for label in long.category_labels)


def test_floats_are_refused_as_amounts():
    with pytest.raises(TypeError, match="Decimal"):
        charts.bar_chart("t", "d", ["a"], [1.5], euros)


def test_a_series_must_have_a_value_for_every_category():
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        charts.line_chart("t", "d", ["a", "b", "c"], {"x": [D(1), D(2)]}, euros)


def test_chart_ids_are_stable_and_differ_between_charts():
    first = charts.bar_chart("Omzet", "d", ["a"], [D(1)], euros).id
    assert first == charts.bar_chart("Omzet", "d", ["a"], [D(1)], euros).id
    assert first != charts.bar_chart("Omzet", "d", ["a"], [D(2)], euros).id
    assert first != charts.bar_chart("Kosten", "d", ["a"], [D(1)], euros).id
    assert re.fullmatch(r"chart-omzet-[0-9a-f]{8}", first)
    assert charts.bar_chart("Omzet", "d", ["a"], [D(1)], euros, chart_id="x").title_id == (
        "x-title")


@pytest.mark.parametrize("name", ["bar_chart", "line_chart"])
def test_a_chart_without_data_still_renders_an_empty_axis(macros, name):
    args = ("Omzet", "Nog geen cijfers", [], [] if name == "bar_chart" else {}, euros)
    _html, figure = rendered(macros, name, *args)
    svg = figure.find(f"{SVG}svg")
    assert svg.find(f"{SVG}rect") is None and svg.find(f"{SVG}polyline") is None
    assert svg.find(f"{SVG}line[@class='chart__zero']") is not None


def test_the_data_table_macro_stands_on_its_own(macros):
    _html, details = rendered(macros, "data_table", "Omzet", MONTHS[:2],
                              {"2025": [D(1), D(2)]}, euros, category_header="Maand")
    assert [th.text for th in details.iter("th")] == ["Maand", "2025", "jan", "feb"]
    assert [td.text for td in details.iter("td")] == ["€ 1,00", "€ 2,00"]


def test_text_is_escaped_not_interpreted(macros):
    html, figure = rendered(macros, "bar_chart", "<b>Omzet</b>", "a & b", ["<i>"], [D(1)],
                            euros)
    assert "<b>" not in html and "<i>" not in html
    assert figure.find(f"{SVG}svg/{SVG}title").text == "<b>Omzet</b>"
