"""The pages at / on :5050 and :8080, loaded in a real browser (Debian's Chromium, headless).

Both ask HTTP Basic; the browser is given the credentials in the URL, as an operator's would
answer the prompt."""

from __future__ import annotations

import html.parser

from lab.browser import dom

from .conftest import PLATFORM, marathon_auth, mesos_auth, wait_for

MM1 = PLATFORM["nodes"]["mm1"]["ip"]
AGENTS = sorted(
    f"{node}.{PLATFORM['domain']}" for node, spec in PLATFORM["nodes"].items() if "mesos-agent" in spec["roles"]
)


class Tables(html.parser.HTMLParser):
    """The rows (lists of cell texts) of each <table id=...> in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rendered(url: str) -> dict[str, list[list[str]]]:
    """The page's tables as Chromium renders it (its DOM after loading)."""
    page = dom(url)
    assert "<table" in page, page[-2000:]
    tables = Tables()
    tables.feed(page)
    return tables.tables


def test_the_mesos_page_shows_the_four_agents_with_their_environments():
    tables = rendered(f"http://{':'.join(mesos_auth())}@{MM1}:5050/")
    agents = {row[0]: row for row in tables["agents"]}
    assert sorted(agents) == AGENTS
    for host, row in agents.items():
        env = PLATFORM["nodes"][host.split(".")[0]]["env"]
        assert f"env:{env}" in row[1] and row[-1] == "active"
    assert [row[0] for row in tables["frameworks"]] == ["marathon"]
    assert any(row[-1] == "TASK_RUNNING" for row in tables["tasks"])


def test_the_pages_ask_for_credentials_first():
    assert "<table" not in dom(f"http://{MM1}:5050/")
    assert "<table" not in dom(f"http://{MM1}:8080/")


def test_the_marathon_page_shows_both_apps_running():
    def both_apps_running_and_healthy() -> bool:
        """/app-test and /app-production listed, every instance running and healthy."""
        apps = {row[0]: row for row in rendered(f"http://{':'.join(marathon_auth())}@{MM1}:8080/")["apps"]}
        for app_id in ("/app-test", "/app-production"):
            if app_id not in apps:
                return False
            running, instances = apps[app_id][1].split(" / ")
            if not (running == instances != "0" and apps[app_id][2].startswith(f"{instances} healthy")):
                return False
        return True

    # Earlier lab tests break and repair tasks on purpose: give their replacements time to pass.
    wait_for(both_apps_running_and_healthy, timeout=120, interval=2)
