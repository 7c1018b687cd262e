"""The Grafana dashboard (deploy/grafana/protolearn.json), its provisioning files and the
Prometheus scrape config (deploy/prometheus.yml), kept true to what /metrics exposes.

The dashboard must be Grafana JSON that loads: panels with unique ids and a place on the grid,
targets with an expression and a refId, the data source and the node picked by template
variables. Every metric its expressions name is one a real server exposes, scraped here, with
the suffixes of its type (a counter's _total, a histogram's _bucket, _sum and _count) and the
labels it carries; and every family the server exposes is on some panel, so a new metric gets
one or is named below as not belonging.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import yaml
from prometheus_client.parser import text_string_to_metric_families

from protolearn.config import Settings
from tests.support.processes import free_port
from tests.support.redis import REDIS_URL, redis_or_skip
from tests.support.server import running_server

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "protolearn.json"
DASHBOARDS_PROVISIONING = GRAFANA / "provisioning" / "dashboards.yml"
DATASOURCES_PROVISIONING = GRAFANA / "provisioning" / "datasources.yml"
PROMETHEUS = DEPLOY / "prometheus.yml"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

PREFIX = "protolearn_"
# Where a grafana service mounts deploy/grafana/ (dashboards.yml says so in its comments).
DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards/protolearn"
PROMETHEUS_URL = "http://prometheus:9090"
NODES = ("node-a", "node-b")

# Families the dashboard may query although a server built from the test settings does not
# expose them at the first scrape, with why.
REDIS_ONLY = {
    # Collected only while the node has a cluster (PROTOLEARN_REDIS_URL set): a single node
    # without Redis has no other nodes to count and no heartbeat to answer.
    "protolearn_live_nodes": "gauge",
    "protolearn_redis_reachable": "gauge",
}
CONDITIONAL = {
    **REDIS_ONLY,
    # Litestar's request middleware creates this counter at the first 5xx answer of the process.
    "protolearn_requests_error": "counter",
}
# Families the server exposes that have no panel, with why. None so far: every family is on one.
NOT_ON_DASHBOARD: dict[str, str] = {}

# Labels Prometheus gives every series it scrapes (deploy/prometheus.yml). A family's own label of
# the same name is kept as exported_<name> (honor_labels off, Prometheus's default):
# protolearn_background_jobs's job (auto_submit, extraction, retention) is exported_job there.
TARGET_LABELS = frozenset({"instance", "job"})
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}
_COMPANIONS = ("counter", "histogram", "summary")  # the types whose _created series the client adds

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(
    r"(?<![\w:$])(?P<name>protolearn_[A-Za-z0-9_:]*)\s*"
    r'(?:\{(?P<matchers>(?:[^}"]|"(?:[^"\\]|\\.)*")*)\})?\s*(?P<range>\[)?'
)
_MATCHER = re.compile(r'(?P<label>[A-Za-z_]\w*)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(?:by|without)\s*\((?P<labels>[^)]*)\)")


# --- what the server exposes -----------------------------------------------------------------


@dataclass
class Family:
    name: str
    type: str
    # The labels its samples carry; None while it has no sample (a labelled instrument not yet
    # used): then its labels cannot be known from a scrape and go unchecked.
    labels: frozenset[str] | None
    # The names of its samples in Prometheus: a counter's _total, a histogram's _bucket, _sum, _count.
    samples: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.samples = frozenset(self.name + suffix for suffix in _SUFFIXES.get(self.type, ("",)))

    def label_problem(self, label: str) -> str | None:
        """What is wrong with selecting or grouping this family's series by ``label`` in
        Prometheus, if anything (nothing can be said while its labels are unknown)."""
        if self.labels is None:
            return None
        if label in self.labels & TARGET_LABELS:
            return f"{label!r} is the scrape target's label; {self.name}'s own is 'exported_{label}'"
        stored = {f"exported_{own}" if own in TARGET_LABELS else own for own in self.labels}
        if label not in stored | TARGET_LABELS:
            return f"{self.name} has no label {label!r}"
        return None


def families_of(text: str) -> dict[str, Family]:
    """The protolearn_ families of a scrape by name, without the _created series the client adds
    beside each counter and histogram (a start time, nothing to chart)."""
    parsed = [family for family in text_string_to_metric_families(text) if family.name.startswith(PREFIX)]
    types = {family.name: family.type for family in parsed}
    families: dict[str, Family] = {}
    for family in parsed:
        base = family.name.removesuffix("_created")
        if base != family.name and types.get(base) in _COMPANIONS:
            continue
        samples = [sample for sample in family.samples if not sample.name.endswith("_created")]
        labels = frozenset(label for sample in samples for label in sample.labels) if samples else None
        families[family.name] = Family(family.name, family.type, labels)
    return families


async def scrape(settings: Settings, port: int = 0) -> dict[str, Family]:
    """The families of a real server's /metrics, after one request (Litestar's request metrics
    exist from the first one) and the retention sweep's first run, which the server starts at
    once: it reports the labels of protolearn_background_jobs (job, outcome) with its count."""
    async with running_server(settings, port) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
        deadline = asyncio.get_running_loop().time() + 30  # a bound for a sweep that never runs
        while True:
            response = await http.get("/metrics")
            assert response.status_code == 200
            families = families_of(response.text)
            if families["protolearn_background_jobs"].labels is not None:
                return families
            assert asyncio.get_running_loop().time() < deadline, "no retention sweep reported"
            await asyncio.sleep(0.05)


def conditional_families() -> dict[str, Family]:
    return {name: Family(name, kind, None) for name, kind in CONDITIONAL.items()}


# --- what the dashboard queries --------------------------------------------------------------


def load_dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows and the panels of collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: dict[str, tuple[str, str]]  # label -> (operator, value)
    is_range: bool


@dataclass(frozen=True)
class Query:
    where: str
    expr: str

    @property
    def selectors(self) -> list[Selector]:
        found = []
        for match in _SELECTOR.finditer(self.expr):
            matchers = {m["label"]: (m["op"], m["value"]) for m in _MATCHER.finditer(match["matchers"] or "")}
            found.append(Selector(match["name"], matchers, match["range"] is not None))
        return found

    @property
    def grouping(self) -> list[list[str]]:
        """The label lists of the expression's by (...) and without (...) clauses."""
        bare = _STRING.sub('""', self.expr)
        return [
            [label.strip() for label in clause["labels"].split(",") if label.strip()]
            for clause in _GROUPING.finditer(bare)
        ]


def queries(dashboard: dict[str, Any]) -> list[Query]:
    found = []
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            found.append(Query(f"panel {panel['id']} {panel['title']!r} {target['refId']}", target["expr"]))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append(Query(f"variable {variable['name']}", variable_query(variable)))
    return found


def variable_query(variable: dict[str, Any]) -> str:
    query = variable["query"]
    return str(query["query"] if isinstance(query, dict) else query)


def family_of(sample_name: str, families: dict[str, Family]) -> Family | None:
    for family in families.values():
        if sample_name in family.samples:
            return family
    return None


def queried_families(dashboard: dict[str, Any], families: dict[str, Family]) -> set[str]:
    return {
        family.name
        for query in queries(dashboard)
        for selector in query.selectors
        if (family := family_of(selector.name, families)) is not None
    }


# --- the dashboard is Grafana JSON -----------------------------------------------------------


def test_the_dashboard_is_grafana_json_with_a_place_for_every_panel() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"] and dashboard["title"]
    assert 36 <= dashboard["schemaVersion"] <= 41
    everything = list(panels(dashboard))
    ids = [panel["id"] for panel in everything]
    assert all(isinstance(panel_id, int) for panel_id in ids)
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert dashboard["panels"][0]["type"] == "row", "every panel is under a row"

    taken: dict[tuple[int, int], str] = {}
    for panel in everything:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= grid.keys(), panel["title"]
        assert grid["h"] >= 1 and grid["w"] >= 1 and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel
        if panel["type"] == "row" and panel.get("collapsed"):
            continue  # a collapsed row's panels lie below it only when it is opened
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']!r} overlaps {taken[(x, y)]!r}"
                taken[(x, y)] = panel["title"]

    charts = [panel for panel in everything if panel["type"] != "row"]
    assert len(charts) >= 25
    for panel in charts:
        title = panel["title"]
        assert panel["type"] in {"stat", "timeseries", "bargauge", "gauge", "table"}, title
        assert len(panel.get("description", "")) > 40, f"{title!r} says what a bad value means"
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{title!r} has a unit"
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, title
        targets = panel["targets"]
        assert targets, title
        ref_ids = [target["refId"] for target in targets]
        assert all(ref_ids) and len(ref_ids) == len(set(ref_ids)), title
        for target in targets:
            assert target["expr"].strip(), title
            assert target["datasource"] == panel["datasource"], title
            assert target.get("legendFormat"), f"{title!r} {target['refId']} names its series"


def test_the_dashboard_picks_its_data_source_and_nodes_with_variables() -> None:
    variables = {variable["name"]: variable for variable in load_dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    instance = variables["instance"]
    assert instance["type"] == "query"
    assert instance["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert variable_query(instance).replace(" ", "") == "label_values(protolearn_live_publishers,instance)"
    assert instance["multi"] and instance["includeAll"] and instance["allValue"] == ".*"


def test_every_query_keeps_to_the_picked_nodes_and_takes_rates_of_counters() -> None:
    dashboard = load_dashboard()
    for query in queries(dashboard):
        if query.where.startswith("variable"):
            continue
        selectors = query.selectors
        assert selectors, f"{query.where}: queries no protolearn_ metric: {query.expr}"
        for selector in selectors:
            assert selector.matchers.get("instance") == ("=~", "$instance"), (
                f'{query.where}: {selector.name} without instance=~"$instance" ignores the node picked'
            )
            if selector.name.endswith(("_total", "_bucket", "_sum", "_count")):
                # A counter's value is its count since the process started: only its rate means anything.
                assert selector.is_range, f"{query.where}: {selector.name} is a counter, not a rate of one"
        if any(selector.name.endswith("_bucket") for selector in selectors):
            assert "histogram_quantile(" in query.expr, query.where
            grouping = query.grouping
            assert grouping and all("le" in labels for labels in grouping), f"{query.where}: buckets keep le"


# --- the dashboard is true to /metrics -------------------------------------------------------


async def test_every_metric_the_dashboard_queries_is_exposed_with_its_labels(settings: Settings) -> None:
    exposed = await scrape(settings)
    assert exposed.keys().isdisjoint(REDIS_ONLY), "without Redis these are not collected; why list them?"
    known = {**conditional_families(), **exposed}
    problems = []
    for query in queries(load_dashboard()):
        selected = []
        for selector in query.selectors:
            family = family_of(selector.name, known)
            if family is None:
                problems.append(f"{query.where}: {selector.name} is not exposed (nor a sample of a family)")
                continue
            selected.append(family)
            for label in selector.matchers:
                if problem := family.label_problem(label):
                    problems.append(f"{query.where}: selects by {label!r}: {problem}")
        for labels in query.grouping:
            for family in selected:
                for label in labels:
                    if problem := family.label_problem(label):
                        problems.append(f"{query.where}: grouped by {label!r}: {problem}")
    assert not problems, "\n".join(problems)
    # The label check covers most families: those with samples at a first scrape.
    assert sum(family.labels is not None for family in exposed.values()) >= 15


async def test_every_family_the_server_exposes_is_on_a_panel(settings: Settings) -> None:
    exposed = await scrape(settings)
    assert len(exposed) >= 20, sorted(exposed)
    dashboard = load_dashboard()
    queried = queried_families(dashboard, {**conditional_families(), **exposed})
    missing = exposed.keys() - queried - NOT_ON_DASHBOARD.keys()
    assert not missing, (
        f"exposed on /metrics, on no panel (add one, or list it in NOT_ON_DASHBOARD): {missing}"
    )
    assert not NOT_ON_DASHBOARD.keys() & queried, "listed as not on the dashboard, yet queried"
    assert CONDITIONAL.keys() <= queried, "CONDITIONAL names a family no panel queries: drop it"


async def test_the_redis_only_families_are_exposed_with_redis(settings: Settings) -> None:
    redis = await redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex[:12]}"  # this test's keys and channels only
    port = free_port()  # known before the server starts: its settings name its address
    clustered = msgspec.structs.replace(
        settings,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        node_id="node-a",
        node_url=f"http://127.0.0.1:{port}",
    )
    try:
        exposed = await scrape(clustered, port)
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    for name, kind in REDIS_ONLY.items():
        assert name in exposed, f"{name} is not exposed even with Redis: remove it from REDIS_ONLY"
        assert exposed[name].type == kind


# --- Prometheus and Grafana's provisioning ---------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_prometheus_scrapes_both_nodes_every_15_seconds() -> None:
    config = _yaml(PROMETHEUS)
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "protolearn"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert job.get("scheme", "http") == "http"
    assert job.get("scrape_interval", config.get("global", {}).get("scrape_interval")) == "15s"
    # The dashboard reads protolearn_background_jobs's own job label as exported_job.
    assert not job.get("honor_labels", False)
    targets = [target for static in job["static_configs"] for target in static["targets"]]
    assert sorted(targets) == sorted(f"{node}:8000" for node in NODES)
    # The nodes are the compose project's services, serving on the port their image exposes.
    services = _yaml(COMPOSE)["services"]
    assert set(NODES) <= services.keys()
    assert re.search(r"^EXPOSE 8000$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    # One instance label per node: the relabelling of the address keeps the targets apart.
    instances = set(targets)
    for rule in job.get("relabel_configs", []):
        if rule.get("target_label") == "instance" and rule.get("source_labels") == ["__address__"]:
            instances = {_relabel(target, rule["regex"], rule["replacement"]) for target in targets}
    assert len(instances) == len(NODES), instances


def _relabel(value: str, regex: str, replacement: str) -> str:
    """Prometheus's replace action: the regex anchored at both ends, $1 for its first group."""
    match = re.fullmatch(regex, value)
    assert match is not None, f"{regex!r} does not match {value!r}: the instance label would be dropped"
    return re.sub(r"\$(\d+)", lambda group: match[int(group[1])], replacement)


def test_grafana_provisioning_points_at_prometheus_and_the_dashboard_folder() -> None:
    datasources = _yaml(DATASOURCES_PROVISIONING)
    assert datasources["apiVersion"] == 1
    [prometheus] = [source for source in datasources["datasources"] if source["type"] == "prometheus"]
    assert prometheus["url"] == PROMETHEUS_URL
    assert prometheus["access"] == "proxy"
    assert prometheus.get("isDefault") is True, "the dashboard's datasource variable starts on it"
    assert prometheus["jsonData"]["timeInterval"] == _yaml(PROMETHEUS)["global"]["scrape_interval"]

    dashboards = _yaml(DASHBOARDS_PROVISIONING)
    assert dashboards["apiVersion"] == 1
    [provider] = dashboards["providers"]
    assert provider["type"] == "file"
    assert provider["folder"]
    assert provider["options"]["path"] == DASHBOARDS_MOUNT
    # What Grafana finds in that folder, mounted from deploy/grafana/: this dashboard alone.
    assert sorted(path.name for path in GRAFANA.rglob("*.json")) == [DASHBOARD.name]
    assert DASHBOARDS_MOUNT in DASHBOARDS_PROVISIONING.read_text(encoding="utf-8")
    assert "deploy/grafana/" in DASHBOARDS_PROVISIONING.read_text(encoding="utf-8")
