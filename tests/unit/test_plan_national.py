"""The national sizing plan (tests/perf/plan_national.py) on the real
measurement files and on small synthetic ones: its tables add up, every
replica count covers its load with the headroom, a missing figure is named,
and a faster measured rate needs fewer replicas. No servers, no timing."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from tests.perf import plan_national as pn

SYNTHETIC_PROVINCES = [
    pn.Province("61", "陕西省", cities=10, counties=107, townships=1335),
    pn.Province("62", "甘肃省", cities=14, counties=86, townships=1405),
]


def synthetic_measurements(drop: str = "") -> str:
    """A small national table in make scale's format; ``drop`` removes every
    line that contains it."""
    lines = [
        "# make scale, synthetic",
        "what  measured  baseline",
    ]
    for i, service in enumerate(pn.SERVICES):
        p50 = 4.0 + i
        for level, period in (("61 by city", "all"), ("6101 by county", "month")):
            lines.append(
                f"{service} Summarize({level}, {period})    p50 {p50:.1f} / p99"
                f" {2 * p50:.1f} ms    GROUP BY {100 * p50:.1f} ms    10.0×"
            )
    lines += [
        "hours bulk import      1,000 rows/s       raw COPY 10,000 rows/s   0.1×",
        "volunteers bulk import  2,000 rows/s      raw COPY 20,000 rows/s   0.1×",
        "GetDivision, 1 caller(s)     p50 1.00 ms     echo p50 0.80 ms   1.25×",
        "GET /api/v1/dashboard, province admin (61), HTTP   p50 40.0 / p99 60.0 ms",
        "GET /api/v1/dashboard, county admin (610113), HTTP  p50 30.0 / p99 70.0 ms",
        "platform at idle (MiB): "
        + ", ".join(
            f"{role} 100 RSS/60 PSS"
            for role in (
                "gateway",
                *(f"{s}-{r}" for s in pn.SERVICES for r in ("api", "worker")),
            )
        ),
        "table sizes (MiB, with indexes; rows estimated):",
    ]
    for service in pn.SERVICES:
        parts = []
        for table, driver in pn.TABLES[service]:
            rows = {"volunteer": 1_000, "rollup": 500, "fixed": 100}.get(driver, 10_000)
            parts.append(f"{table} {rows / 1000:.1f} ({rows:,} rows)")
        lines.append(f"  {service}: " + ", ".join(parts))
    return "\n".join(line for line in lines if not drop or drop not in line) + "\n"


def synthetic_open_work(
    hours_burst: int = 300, hours_backlog: int = 250, stars: int = 100, drop: str = ""
) -> str:
    lines = [
        "# Open work",
        f"- **Star burst: met.** 10,000 events in 1 s = {stars} events/s, 0.6x raw"
        f" kombu; backlog {2 * stars} events/s.",
        "- **Hours' check-out consumer: 0.500x raw kombu.** 10,000 check-outs in"
        f" 1 s = {hours_burst} events/s, every record verified; worker 0.50"
        " ms/event of CPU, its PostgreSQL 1.00 ms/event. Left: a backlog drains"
        f" at {hours_backlog} events/s, 0.1x a raw consumer.",
        "- **Why:** per 1M rows, ~60 s of Python against ~100 s of database time.",
        "- Commendation's worker takes the parts one volunteer per transaction,"
        " ~10 volunteers/s here.",
    ]
    return "\n".join(line for line in lines if not drop or drop not in line) + "\n"


def synthetic_inputs(**open_work: Any) -> pn.Inputs:
    inputs = pn.parse_measurements(synthetic_measurements(), "m.txt")
    return pn.parse_open_work(synthetic_open_work(**open_work), inputs, "o.md")


def assert_consistent(result: dict[str, Any], a: pn.Assumptions) -> None:
    """Every sized row covers its load with the headroom; totals are sums."""
    raw_kombu = next(
        f["value"] for f in result["inputs"] if f["name"] == "raw_kombu_msgs_s"
    )
    everything = [*result["releases"], result["national"]]
    for release in everything:
        for s, row in release["services"].items():
            assert row["workers"] * row["worker_rate_s"] >= (
                row["events_s"] * a.headroom
            ), (release["code"], s)
            assert row["workers"] >= a.min_replicas
            assert row["api"] >= row["api_load"] * a.headroom, (release["code"], s)
            assert row["partitions"] * a.partition_rows >= row["fact_rows"]
            assert row["pg_primaries"] * a.pg_node_storage_gib >= row["storage_gib"]
            assert row["pg_primaries"] * a.pg_node_cores >= row["pg_cores"]
            assert row["pg_instances"] == row["pg_primaries"] * (1 + a.pg_standbys)
        assert release["broker_nodes"] >= a.quorum
        assert release["broker_nodes"] * raw_kombu / a.quorum >= (
            release["broker_msgs_s"] * a.headroom
        )
    for release in result["releases"]:
        assert release["gateway"] >= release["gateway_load"] * a.headroom
    totals = result["totals"]
    for s in pn.SERVICES:
        for key in ("storage_gib", "pg_instances", "api", "workers", "partitions"):
            assert totals[s][key] == pytest.approx(
                sum(r["services"][s][key] for r in everything)
            )
    assert totals["broker_nodes"] == sum(r["broker_nodes"] for r in everything)
    assert sum(r["volunteers"] for r in result["releases"]) == pytest.approx(
        a.volunteers
    )
    records = result["derived"]["records_per_year"]
    assert records == pytest.approx(
        a.volunteers * a.hours_per_volunteer / a.record_hours
    )
    assert sum(r["records_per_year"] for r in result["releases"]) == pytest.approx(
        records
    )
    assert totals["hours"]["fact_rows"] == pytest.approx(records * a.years)
    assert result["national"]["federation_cells_s"] == pytest.approx(
        sum(r["federation_cells_s"] for r in result["releases"])
    )


# -- the real measurements ----------------------------------------------------


@pytest.fixture(scope="module")
def real_inputs() -> pn.Inputs:
    return pn.load_inputs()


@pytest.fixture(scope="module")
def provinces() -> list[pn.Province]:
    return pn.load_provinces()


def test_real_plan_adds_up(real_inputs: pn.Inputs, provinces: list) -> None:
    a = pn.Assumptions()
    result = pn.plan(real_inputs, provinces, a)
    assert len(provinces) == 31
    assert len(result["releases"]) == 31
    assert result["totals"]["releases"] == 32
    assert sum(p.townships for p in provinces) == 41_352
    assert result["derived"]["cells_per_fact"] == 12
    assert_consistent(result, a)


def test_real_plan_under_heavy_load_is_still_consistent(
    real_inputs: pn.Inputs, provinces: list
) -> None:
    """Loads far above the replica floor: the sizes come from the rates."""
    a = pn.Assumptions(
        peak_factor=400, years=5, min_replicas=1, headroom=2, partition_rows=1e8
    )
    result = pn.plan(real_inputs, provinces, a)
    assert_consistent(result, a)
    hours = result["totals"]["hours"]
    assert hours["workers"] > 31 and hours["partitions"] > 31


def test_every_source_line_carries_its_figure(real_inputs: pn.Inputs) -> None:
    for figure in real_inputs.figures.values():
        path, line = figure.source.rsplit(":", 1)
        text = (pn.ROOT / path).read_text("utf-8").splitlines()[int(line) - 1]
        if "=" in figure.note:  # derived from two figures of the line
            continue
        numbers = [
            float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\.?\d*", text)
        ]
        scale = 1_000 if figure.unit == "ms/row" else 1
        assert any(math.isclose(n, figure.value * scale) for n in numbers), (
            figure.name,
            text,
        )


def test_markdown_names_inputs_and_every_release(
    real_inputs: pn.Inputs, provinces: list
) -> None:
    text = pn.render(pn.plan(real_inputs, provinces, pn.Assumptions()))
    assert "docs/measurements/scale-national.txt:51" in text  # hours import
    assert (
        "docs/measurements/consumers.md:" in text
        and "not in scale-national.txt" in text
    )
    for p in provinces:
        assert f"| {p.code} {p.name} |" in text
    assert "| CN 全国 national |" in text
    for flag in ("--headroom", "--peak-factor", "--volunteers"):
        assert flag in text


def test_main_json_and_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert pn.main(["--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert pn.main(["--json", "--volunteers", "460000000", "--peak-factor", "50"]) == 0
    more = json.loads(capsys.readouterr().out)
    assert more["assumptions"]["volunteers"] == 460_000_000
    assert more["assumptions"]["peak_factor"] == 50
    assert more["derived"]["records_per_year"] == pytest.approx(
        2 * base["derived"]["records_per_year"]
    )
    assert more["totals"]["broker_nodes"] > base["totals"]["broker_nodes"]


def test_help_names_the_main_assumptions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        pn.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--headroom", "--peak-factor", "--volunteers", "--json", "make plan"):
        assert flag in out


# -- synthetic measurements ---------------------------------------------------


def test_synthetic_plan_by_hand() -> None:
    inputs = synthetic_inputs()
    assert inputs.value("hours_import_rows_s") == 1_000
    assert inputs.value("hours_summarize_p50_ms") == 6.0  # the slowest of two
    assert inputs.value("dashboard_p99_ms") == 70.0
    assert inputs.value("raw_kombu_msgs_s") == pytest.approx(600)
    assert inputs.value("import_db_ms_per_row") == pytest.approx(0.1)
    a = pn.Assumptions(volunteers=1_000_000, peak_factor=1000, min_replicas=1)
    result = pn.plan(inputs, SYNTHETIC_PROVINCES, a)
    assert_consistent(result, a)
    shaanxi = result["releases"][0]
    assert shaanxi["share"] == pytest.approx(1335 / (1335 + 1405))
    peak = (
        a.volunteers
        * a.hours_per_volunteer
        / a.record_hours
        * shaanxi["share"]
        / pn.SECONDS_PER_YEAR
        * 1000
    )
    assert shaanxi["peak_records_s"] == pytest.approx(peak)
    # hours' worker: min(burst 300, backlog 250) events/s each, one event a record
    assert shaanxi["services"]["hours"]["workers"] == math.ceil(peak * 1.5 / 250)
    # storage: 10,000 rows of 10 MiB -> 1 KiB a record in hour_records
    assert shaanxi["services"]["hours"]["rows"]["hour_records"] == pytest.approx(
        shaanxi["records_per_year"]
    )


def test_doubling_a_measured_rate_lowers_the_replicas() -> None:
    a = pn.Assumptions(volunteers=5_000_000, peak_factor=1000, min_replicas=1)
    slow = pn.plan(synthetic_inputs(), SYNTHETIC_PROVINCES, a)
    fast = pn.plan(
        synthetic_inputs(hours_burst=600, hours_backlog=500, stars=200),
        SYNTHETIC_PROVINCES,
        a,
    )
    for s in ("hours", "commendation", "registration"):
        assert fast["totals"][s]["workers"] < slow["totals"][s]["workers"], s
    assert fast["totals"]["broker_nodes"] < slow["totals"]["broker_nodes"]


def test_doubling_summarize_speed_lowers_api_replicas(tmp_path: Path) -> None:
    a = pn.Assumptions(dashboard_views=5_000, min_replicas=1)
    text = synthetic_measurements()
    faster = re.sub(
        r"p50 ([\d.]+) / p99",
        lambda m: f"p50 {float(m[1]) / 2:.2f} / p99",
        text,
    )
    slow = pn.plan(
        pn.parse_open_work(synthetic_open_work(), pn.parse_measurements(text)),
        SYNTHETIC_PROVINCES,
        a,
    )
    fast = pn.plan(
        pn.parse_open_work(synthetic_open_work(), pn.parse_measurements(faster)),
        SYNTHETIC_PROVINCES,
        a,
    )
    assert fast["totals"]["hours"]["api"] < slow["totals"]["hours"]["api"]
    assert fast["totals"]["gateway"] < slow["totals"]["gateway"]


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("hours bulk import", "hours bulk import"),
        ("GetDivision", "GetDivision"),
        ("commendation Summarize", "commendation Summarize"),
        ("GET /api/v1/dashboard", "GET /api/v1/dashboard"),
        ("platform at idle", "platform at idle"),
        ("hour_records", "table sizes of hours"),
    ],
)
def test_missing_measured_figure_is_named(drop: str, named: str) -> None:
    with pytest.raises(pn.MissingFigure) as error:
        pn.parse_measurements(synthetic_measurements(drop=drop), "m.txt")
    assert named in str(error.value)
    assert "missing measured figure" in str(error.value)
    assert "缺少测量数据" in str(error.value)


def test_one_missing_table_is_named() -> None:
    text = re.sub(
        r"hours_presence [\d.]+ \([\d,]+ rows\), ", "", synthetic_measurements()
    )
    assert "hours_presence" not in text
    with pytest.raises(pn.MissingFigure, match="hours.hours_presence"):
        pn.parse_measurements(text, "m.txt")


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("Star burst", "star worker burst"),
        ("a backlog drains", "check-out consumer"),
        ("database time", "database time"),
        ("volunteers/s", "imported-hours"),
    ],
)
def test_missing_open_work_figure_is_named(drop: str, named: str) -> None:
    inputs = pn.parse_measurements(synthetic_measurements(), "m.txt")
    with pytest.raises(pn.MissingFigure) as error:
        pn.parse_open_work(synthetic_open_work(drop=drop), inputs, "o.md")
    assert named in str(error.value)


def test_main_reports_a_missing_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    measurements = tmp_path / "scale.txt"
    measurements.write_text(synthetic_measurements(drop="volunteers bulk import"))
    open_work = tmp_path / "open-work.md"
    open_work.write_text(synthetic_open_work())
    code = pn.main(["--measurements", str(measurements), "--consumers", str(open_work)])
    assert code == 2
    err = capsys.readouterr().err
    assert "volunteers bulk import" in err and "scale.txt" in err


def test_headroom_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="--headroom"):
        pn.plan(synthetic_inputs(), SYNTHETIC_PROVINCES, pn.Assumptions(headroom=0.5))


def test_update_rewrites_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "scale.md"
    doc.write_text(f"# head\n{pn.BEGIN}\nold table\n{pn.END}\n## tail\n")
    pn.update_doc(doc, "new table\n")
    assert doc.read_text() == f"# head\n{pn.BEGIN}\nnew table\n{pn.END}\n## tail\n"
    doc.write_text("# no markers\n")
    with pytest.raises(ValueError, match="plan:begin"):
        pn.update_doc(doc, "new table\n")


def test_scale_doc_carries_a_generated_plan() -> None:
    text = (pn.ROOT / "docs" / "scale.md").read_text("utf-8")
    block = text.split(pn.BEGIN, 1)[1].split(pn.END, 1)[0]
    assert "### Inputs 输入 (measured)" in block
    assert "| CN 全国 national |" in block
    assert "make plan" in text
