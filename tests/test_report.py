"""`flexbot report`: a scripted population played through the assistant on a fixed clock, whose
figures the test works out itself from the script's own times, then reads back from the command."""

import json
import re
import statistics
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.cli import main
from bot.config import Settings
from flows.assistant import Assistant
from flows.offer import Product
from flows.ports import Store
from flows.records import AdminAccount, AuditEntry, Subscription
from flows.report import FactsRow, Period, ReportFacts, report
from storage.documents import FACTS
from storage.mail_cipher import MailCipher
from storage.postgres_store import PostgresStore, connect
from storage.tinydb_store import TinyDBStore
from tests.conftest import TEST_KEY
from tests.flow_harness import ON_CALL, Agent, Chat, Desk, add_user, admin_through_step_1, delivered_to, make_toolkit
from tests.test_reminders import at, run_due

T0 = at("2027-03-01T10:00")  # a Monday morning in Paris: reminders go out in business hours
HOUR, DAY = 3600.0, 86400.0


def desk_on(store: Store) -> Desk:
    toolkit, _, clock = make_toolkit()
    toolkit = replace(toolkit, store=store)
    return Desk(toolkit, None, clock, Assistant(toolkit))  # type: ignore[arg-type]


def rate(chat: Chat, outcome: Any, mark: str) -> None:
    """Press a rating button of the feedback question an outcome delivered to the chat."""
    chat.deliver_press(delivered_to(outcome, chat.chat_id), mark)


def started(desk: Desk, chat_id: int, opened_at: float, started_at: float, seats: int = 1) -> tuple[Chat, Any]:
    """A subscription opened at one time whose Commencer link is followed at another."""
    desk.clock.now = opened_at
    opened = desk.open(seats=seats)
    chat = desk.chat(chat_id)
    desk.clock.now = started_at
    chat.command(f"/start {opened.code}")
    return chat, opened


def populate(desk: Desk) -> list[str]:
    """Six subscriptions (A to F), returned in that order; every time below is in the expectations."""
    clock = desk.clock
    chat_a, a = started(desk, 1, T0, T0 + 60, seats=2)  # A: step 1 at +60 s
    clock.now = T0 + HOUR
    admin_through_step_1(chat_a)                       # step 2 at +1 h
    clock.now = T0 + 2 * HOUR
    add_user(chat_a, "Curie", "Marie", "marie@entreprise.fr")
    chat_a.press("VALIDER ET ACTIVER")
    chat_a.press("Confirmer")                          # step 3 at +2 h
    clock.now = T0 + 2 * HOUR + 100
    chat_a.press("Parler à un conseiller")             # help at step 3
    agent = Agent(desk.assistant, ON_CALL, "Paul")
    clock.now = T0 + 2 * HOUR + 700
    agent.command("/rejoindre 1")                      # waited 600 s
    clock.now = T0 + 2 * HOUR + 1300
    left = agent.command("/quitter")                   # handled in 600 s
    clock.now = T0 + 2 * HOUR + 1400
    rate(chat_a, left, "4")
    chat_a.press("Ajouter un commentaire")
    chat_a.type("Très clair")
    clock.now = T0 + 10_000
    chat_a.command("/etat")
    downloads = chat_a.press("Télécharger mon logiciel")  # step 4 and finished at +10,000 s
    assert downloads.text
    rate(chat_a, chat_a.outcomes[-1], "5")

    chat_b, b = started(desk, 2, T0 + 100, T0 + 200)  # B: step 1 at +100 s
    clock.now = T0 + 1000
    admin_through_step_1(chat_b)                       # one seat: step 3 at +900 s, then it stops

    clock.now = T0 + 200
    c = desk.open(seats=1)                             # C: never started

    chat_d, d = started(desk, 4, T0 + 300, T0 + 400)  # D: step 1 at +100 s
    clock.now = T0 + 450
    chat_d.press("Parler à un conseiller")             # help at step 1...
    clock.now = T0 + 500
    chat_d.press("Annuler la demande d'aide")          # ...withdrawn

    # E and F as the previous release wrote them: no steps recorded; E finished 5,000 s after opening.
    admin = AdminAccount("Martin", "Léa", "lea@exemple.fr", "hashed:x", True)
    e = Subscription("FLX90000005", "e@exemple.fr", Product.PAYE, 1, T0 + 600, admin=admin,
                     setup_completed_at=T0 + 5600)
    f = Subscription("FLX90000006", "f@exemple.fr", Product.PAYE, 1, T0 + 700)
    for old in (e, f):
        desk.toolkit.store.save_subscription(old)

    # Reminders: B and D went quiet. B comes back 2 h after its first one, then goes quiet again.
    clock.now = T0 + 1000 + DAY + 60                   # B's first (and D's first)
    assert len(run_due(desk)) == 2
    clock.now += 2 * HOUR
    chat_b.command("/etat")
    clock.now += DAY + 60                              # B's next first one (activity starts them over)
    assert len(run_due(desk)) == 1
    clock.now = T0 + 1000 + DAY + 60 + 2 * HOUR + 3 * DAY + 60  # B's second, and D's second
    assert len(run_due(desk)) == 2
    clock.now += 2 * DAY + 100                         # just past 48 h: this one brought nobody back
    chat_b.press("Parler à un conseiller")             # help at step 3, never answered
    return [a.subscription.number, b.subscription.number, c.subscription.number, d.subscription.number,
            e.number, f.number]


def expected_durations(values: list[float]) -> dict[str, Any]:
    """Median and 90th percentile as the standard library computes them (interpolated between ranks,
    like a spreadsheet): what the report gives exactly for a few durations."""
    if not values:
        return {"count": 0, "median_s": None, "p90_s": None}
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]
    return {"count": len(values), "median_s": statistics.median(values), "p90_s": p90}


def close_to(actual: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Counts equal, quantiles equal to the tenth of a second the report rounds to."""
    return actual["count"] == expected["count"] and all(
        (actual[key] is None) == (expected[key] is None)
        and (expected[key] is None or abs(actual[key] - expected[key]) <= 0.05)
        for key in ("median_s", "p90_s"))


def run_report(settings: Settings, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    status = main(["report", *options], settings)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def tiny_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, flexbot_data_dir=tmp_path / "data")


@pytest.fixture
def populated(tiny_settings: Settings) -> list[str]:
    store = TinyDBStore(tiny_settings.database_dir, fsync=False)
    numbers = populate(desk_on(store))
    store.close()
    return numbers


def test_the_json_report_gives_the_figures_the_script_implies(tiny_settings: Settings, populated: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_report(tiny_settings, capsys, "--json")
    figures = json.loads(out)
    assert (status, err) == (0, "")
    assert figures["period"] == {"since": None, "until": None}
    assert figures["unreadable"] == {"subscriptions": 0, "audit_entries": 0}
    # Reached: A all; B steps 1-3 (step 2 skipped with one seat); D step 1; E finished (proved by its
    # record); F nothing provable; C nothing.
    assert figures["funnel"] == {"opened": 6, "step_1": 4, "step_2": 3, "step_3": 3, "step_4": 2, "finished": 2,
                                 "steps_unknown": 2}
    times = {"step_1": [60, 100, 100], "step_2": [HOUR], "step_3": [2 * HOUR, 900], "step_4": [10_000],
             "finished": [10_000, 5000]}
    assert {key: close_to(figures["time_to"][key], expected_durations(values)) for key, values in times.items()} == \
        dict.fromkeys(times, True), figures["time_to"]

    help_ = figures["help"]
    assert {place: (h["requested"], h["joined"], h["cancelled"], h["open"]) for place, h in help_["by_step"].items()} == {
        "1": (1, 0, 1, 0), "2": (0, 0, 0, 0), "3": (2, 1, 0, 1), "4": (0, 0, 0, 0), "other": (0, 0, 0, 0)}
    assert (help_["all"]["requested"], help_["all"]["joined"], help_["all"]["cancelled"], help_["all"]["open"]) == (3, 1, 1, 1)
    assert close_to(help_["by_step"]["3"]["wait"], expected_durations([600]))
    assert close_to(help_["by_step"]["3"]["handling"], expected_durations([600]))
    assert help_["by_step"]["1"]["wait"]["count"] == 0

    # B: a first one answered within 2 h, a first one again unanswered, a second one answered too late;
    # D: a first and a second, unanswered.
    assert figures["reminders"] == {"sent": 5, "followed_within_48h": 1, "by_round": {
        "1": {"sent": 3, "followed_within_48h": 1}, "2": {"sent": 2, "followed_within_48h": 0}}}

    ratings = figures["ratings"]
    assert (ratings["assistant"]["count"], ratings["assistant"]["average"]) == (1, 5)
    assert ratings["assistant"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert (ratings["advisor"]["count"], ratings["advisor"]["average"], ratings["advisor"]["comments_count"]) == (1, 4, 1)
    assert ratings["advisor"]["comments"] == [{"at": T0 + 2 * HOUR + 1400, "subscription": populated[0], "step": 3,
                                               "rating": 4, "comment": "Très clair"}]
    assert ratings["assistant"]["comments"] == []


def test_the_terminal_table_reads_the_same_figures_in_french(tiny_settings: Settings, populated: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_report(tiny_settings, capsys)
    lines = [re.sub(" +", " ", line).strip() for line in out.splitlines()]  # columns apart, figures' own spaces kept
    assert status == 0 and lines[0] == "Rapport Flex — Tous les abonnements ouverts"
    assert "Abonnements ouverts 6 100\u00a0%" in lines[lines.index("Parcours") + 2]
    assert "3. Services connectés 3 50\u00a0% 1 h 08 min 1 h 50 min" in lines
    assert "3. Services connectés 2 1 0 1 10 min / 10 min 10 min / 10 min" in lines
    assert "Première relance 3 1 33\u00a0%" in lines
    assert "Les conseillers 1 4 0 0 0 1 0" in lines
    assert any("«\u202fTrès clair\u202f»" in line and populated[0] in line for line in lines)
    assert any(line.startswith("2 abonnements ouverts avant le suivi des étapes") for line in lines)
    assert "Funnel" in run_report(tiny_settings, capsys, "--language", "en")[1]


class Page(HTMLParser):
    """What the page holds: its tags, every attribute, and the text of <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def test_the_html_page_is_one_self_contained_file_with_both_charts(tiny_settings: Settings, populated: list[str],
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    target = tmp_path / "rapport.html"
    status, out, _ = run_report(tiny_settings, capsys, "--html", str(target))
    assert status == 0 and out.startswith("Rapport Flex")
    text = target.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    assert page.tags.count("svg") == 2 and page.tags.count("figure") == 2
    assert ("name", "viewport") in page.attributes and ("lang", "fr") in page.attributes
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    references = [value for name, value in page.attributes if name in ("src", "href", "xlink:href", "action")]
    assert references and all(value.startswith("#") for value in references)  # the charts' own parts only
    assert "url(" not in page.style and "@import" not in page.style
    assert "Parcours des abonnements" in text and "Délai depuis l'ouverture (heures)" in text
    assert "3. Services connectés" in text and "Très clair" in text



class Tables(HTMLParser):
    """The page's tables, each as its column names and its rows of (tag, attributes, text) cells; and
    the lines of its lists."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[tuple[str, dict[str, str], str]]]]] = []
        self.lines: list[str] = []
        self._cell: tuple[str, dict[str, str]] | None = None
        self._text = ""
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.tables[-1][1].append([])
        elif tag in ("th", "td", "li"):
            self._cell, self._text = (tag, {name: value or "" for name, value in attrs}), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_head = False
        elif tag == "li":
            self.lines.append(self._text)
        elif tag in ("th", "td") and self._cell:
            if self._in_head:
                self.tables[-1][0].append(self._text)
            else:
                self.tables[-1][1][-1].append((*self._cell, self._text))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self._text += data


def test_every_cell_of_the_page_names_its_column_so_a_narrow_screen_stacks_rows_into_label_value_lines(
        tiny_settings: Settings, populated: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "rapport.html"
    assert run_report(tiny_settings, capsys, "--html", str(target))[0] == 0
    text = target.read_text(encoding="utf-8")
    tables = Tables()
    tables.feed(text)
    assert [header[0] for header, _ in tables.tables] == ["étape", "étape", "", ""]  # funnel, help, reminders, ratings
    for header, rows in tables.tables:
        assert rows and all(len(row) == len(header) for row in rows)
        for (tag, attributes, _), *cells in rows:  # the row's heading, then its figures, each named
            assert (tag, attributes) == ("th", {"scope": "row"})
            assert [(tag, attributes) for tag, attributes, _ in cells] == [
                ("td", {"data-label": label}) for label in header[1:]]
    assert ("td", {"data-label": "90e centile"}, "1 h 50 min") in tables.tables[0][1][3]
    assert tables.tables[3][0][3:] == ["1/5", "2/5", "3/5", "4/5", "5/5"]  # stacked, still clear
    assert any("Très clair" in line for line in tables.lines)

    page = Page()
    page.feed(text)
    style = re.sub(r"\s+", "", page.style)
    narrow = re.search(r"@media\(max-width:(\d+)rem\)\{(.*?\})\}", style)
    assert narrow and 40 <= int(narrow[1]) <= 60
    assert "td::before{content:attr(data-label)" in narrow[2] and "thead{display:none}" in narrow[2]
    assert "table,tbody,tr,th,td{display:block}" in narrow[2]
    assert re.search(r"ul\.linesli\{[^}]*overflow-wrap:anywhere", style)  # a comment without spaces wraps
    assert "overflow-x" not in style and "max-width:60rem" not in style


def test_the_charts_text_stays_legible_on_a_phone_and_the_axes_numbers_are_in_the_pages_language(
        tiny_settings: Settings, populated: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for language, decimal, foreign in (("fr", ",", "."), ("en", ".", ",")):
        target = tmp_path / f"rapport-{language}.html"
        assert run_report(tiny_settings, capsys, "--html", str(target), "--language", language)[0] == 0
        text = target.read_text(encoding="utf-8")
        charts = re.findall(r"<svg.*?</svg>", text, re.S)
        assert len(charts) == 2
        for chart in charts:
            width = float(re.search(r'viewBox="0 0 ([\d.]+) ', chart)[1])  # type: ignore[index]
            sizes = [float(size) for size in re.findall(r"font-size: ([\d.]+)px", chart)]
            assert sizes and min(sizes) * (390 - 32) / width >= 12  # CSS px across a 390 px screen less the margins
        labels = re.findall(r"<text[^>]*>([^<]*)</text>", charts[1])
        assert any(re.fullmatch(rf"\d+{re.escape(decimal)}\d+", label) for label in labels), labels
        assert not any(re.fullmatch(rf"\d+{re.escape(foreign)}\d+", label) for label in labels), labels


def test_the_time_charts_legend_sits_under_the_axis_where_it_covers_no_bar() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from bot.report_page import times_chart
    from flows.catalogue import catalogue

    longest = {"count": 3, "median_s": 5 * HOUR, "p90_s": 9 * HOUR}  # the last stage's bars go to the right edge
    figures = {"time_to": {**{f"step_{n}": {"count": 3, "median_s": n * 60.0, "p90_s": n * 600.0} for n in range(1, 5)},
                           "finished": longest}}
    figure = times_chart(figures, catalogue("fr"))
    FigureCanvasAgg(figure).draw()
    (legend,) = figure.legends
    (axes,) = figure.axes
    covered = legend.get_window_extent()
    assert covered.y1 <= min(label.get_window_extent().y0 for label in axes.get_xticklabels() if label.get_text())
    assert not any(covered.overlaps(bar.get_window_extent()) for bar in axes.patches)

def test_since_and_until_take_dates_or_datetimes_in_paris_time(tiny_settings: Settings,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    store = TinyDBStore(tiny_settings.database_dir, fsync=False)
    desk = desk_on(store)
    for when in ("2027-03-01T23:30", "2027-03-02T00:30", "2027-03-02T23:59", "2027-03-03T08:00"):
        desk.clock.now = at(when)
        desk.open()
    store.close()

    def opened(*options: str) -> int:
        status, out, _ = run_report(tiny_settings, capsys, "--json", *options)
        assert status == 0
        return json.loads(out)["funnel"]["opened"]

    assert opened() == 4
    assert opened("--since", "2027-03-02", "--until", "2027-03-02") == 2  # that whole day, Paris time
    assert opened("--since", "2027-03-02") == 3
    assert opened("--until", "2027-03-01") == 1
    assert opened("--since", "2027-03-02T00:30") == 3  # a datetime is where it starts, included
    assert opened("--until", "2027-03-02T00:30") == 1  # ...and where it ends, excluded
    assert opened("--since", "2027-03-01T23:00:00+01:00", "--until", "2027-03-02T00:00Z") == 2  # offsets kept
    assert opened("--since", "20270302", "--until", "20270302") == 2  # any ISO form of a date is that day
    assert opened("--until", "2027-W09-1") == 1  # the Monday 1 March 2027


@pytest.mark.parametrize(("options", "said"), [
    (("--since", "2027-03-05", "--until", "2027-03-01"), "--since/--until: the period ends before it starts"),
    (("--since", "1 mars"), "--since/--until: Invalid isoformat string: '1 mars'"),
    (("--until", "9999-12-31"), "--since/--until: 9999-12-31 is out of range"),  # its next day is none
    (("--since", "0001-01-01"), "--since/--until: 0001-01-01 is out of range"),  # year 0 in UTC
    (("--until", "0001-01-01T00:30+01:00"), "--since/--until: 0001-01-01T00:30+01:00 is out of range"),
    (("--html", "{tmp}/nowhere/rapport.html"), "--html {tmp}/nowhere/rapport.html: No such file or directory"),
    (("--html", "{tmp}"), "--html {tmp}: Is a directory"),
])
def test_bad_input_is_one_line_and_status_2_before_the_store_is_read(
        tiny_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        options: tuple[str, ...], said: str) -> None:
    def no_report(*_: Any) -> None:
        raise AssertionError("the store was read")

    monkeypatch.setattr("bot.cli.report", no_report)
    status, out, err = run_report(tiny_settings, capsys, *(option.format(tmp=tmp_path) for option in options))
    assert (status, out, err) == (2, "", f"flexbot: {said.format(tmp=tmp_path)}\n")


def test_the_page_replaces_a_file_already_there(tiny_settings: Settings, populated: list[str], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rapport.html"
    target.write_text("an older and much longer report " * 10_000)
    assert run_report(tiny_settings, capsys, "--html", str(target))[0] == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and "older" not in target.read_text()


def test_facts_damaged_or_missing_are_rebuilt_from_the_trail_and_what_cannot_be_read_is_named(
        tiny_settings: Settings, populated: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    whole = json.loads(run_report(tiny_settings, capsys, "--json")[1])
    store = TinyDBStore(tiny_settings.database_dir, fsync=False)
    store._path(FACTS, populated[0]).write_text('{"record": {"1": {"number"')  # A's facts torn
    store._path(FACTS, populated[3]).unlink()  # D's never kept (an earlier release)
    assert run_report(tiny_settings, capsys, "--json")[:2] == (0, json.dumps(whole, ensure_ascii=False) + "\n")

    store._path(FACTS, populated[2]).unlink()
    store._path("subscriptions", populated[2]).write_text('{"record": {"1": {"number"')  # C: nothing to read
    store._path(FACTS, populated[1]).unlink()
    trail = next(store._audit_dir(populated[1]).glob("*.jsonl"))
    trail.write_text(trail.read_text() + '{"id": "x", "entry": {"at": "nonsense"}}\n'  # not entries: in B's trail
                     + json.dumps({"id": "y", "entry": {"at": T0, "subscription_number": populated[1], "actor": "chat:2",
                                                       "action": "help_requested", "details": [3]}}) + "\n"
                     + json.dumps({"id": "z", "entry": {"at": "T0", "subscription_number": populated[1], "actor": "chat:2",
                                                       "action": "help_requested", "details": {}}}) + "\n")
    status, out, err = run_report(tiny_settings, capsys, "--json")
    figures = json.loads(out)
    assert status == 1
    assert f"subscription {populated[2]} cannot be read" in err
    assert f"3 audit entries of subscription {populated[1]} cannot be read" in err
    assert figures["unreadable"] == {"subscriptions": 1, "audit_entries": 3}
    assert figures["funnel"]["opened"] == 5 and figures["reminders"] == whole["reminders"]
    assert store._path("subscriptions", populated[2]).exists()  # a report moves nothing
    assert store._path(FACTS, populated[0]).read_text().startswith('{"record": {"1": {"number"')


def assert_kept_facts_are_the_whole_trails(store: TinyDBStore | PostgresStore, numbers: list[str]) -> None:
    """What every event folded in along the way is what the record and the whole trail give at the end."""
    for number in numbers:
        rebuilt = ReportFacts.of(store.load_subscription(number), store.audit_trail(number))  # type: ignore[arg-type]
        assert store._record(FACTS, number, ReportFacts) == rebuilt, number


def test_the_facts_the_events_kept_are_those_the_whole_trail_gives(populated: list[str],
                                                                  tiny_settings: Settings) -> None:
    assert_kept_facts_are_the_whole_trails(TinyDBStore(tiny_settings.database_dir, fsync=False), populated)


def test_postgresql_gives_the_same_report_as_tinydb_for_the_same_population(
        tiny_settings: Settings, populated: list[str], postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = PostgresStore(connect(postgres_url, 2, migrate=False), "bot@flex.example", MailCipher(lambda: TEST_KEY))
    in_postgres = populate(desk_on(store))
    assert_kept_facts_are_the_whole_trails(store, in_postgres)
    store.close()
    pg_settings = tiny_settings.model_copy(update={"database_url": SecretStr(postgres_url),
                                                   "flexbot_secret_key": SecretStr(TEST_KEY.decode())})

    def figures(settings: Settings, numbers: list[str]) -> dict[str, Any]:
        status, out, _ = run_report(settings, capsys, "--json")
        assert status == 0
        for number, letter in zip(numbers, "ABCDEF"):  # subscription numbers are drawn at random
            out = out.replace(number, letter)
        return json.loads(out)

    from_tinydb = figures(tiny_settings, populated)
    assert from_tinydb["funnel"]["opened"] == 6
    assert figures(pg_settings, in_postgres) == from_tinydb


def test_a_reminder_telegram_refused_is_neither_sent_nor_followed_and_damage_outside_the_period_is_not_the_reports(
        ) -> None:

    def opened(number: str, at_: float) -> Subscription:
        return Subscription(number, "achat@entreprise.fr", Product.COMPTABILITE.value, 1, at_)

    day = 86400.0
    refused = FactsRow("FLX1", ReportFacts.of(opened("FLX1", 10 * day), (
        AuditEntry(11 * day, "FLX1", "reminders", "reminder_sent", {"round": 1, "chat": 5}),
        AuditEntry(11 * day + 1, "FLX1", "reminders", "reminder_not_delivered", {"round": 1, "chat": 5}),
        AuditEntry(11 * day + 3600, "FLX1", "chat:5", "reminder_followed", {"sent_at": 11 * day, "round": 1}),
        AuditEntry(13 * day, "FLX1", "reminders", "reminder_sent", {"round": 1, "chat": 5}),
        AuditEntry(13 * day + 60, "FLX1", "chat:5", "reminder_followed", {"sent_at": 13 * day, "round": 1}))))
    older = FactsRow("FLX2", ReportFacts.of(opened("FLX2", 1 * day), ()), unreadable_entries=3)
    heard: list[str] = []
    figures = report([refused, older], Period(since=5 * day), lambda row: heard.append(row.number))
    assert figures["reminders"]["sent"] == 1 and figures["reminders"]["followed_within_48h"] == 1
    assert figures["unreadable"]["audit_entries"] == 0 and heard == []
