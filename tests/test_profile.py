"""``synth profile``: hand-made logs with known figures give exactly those figures."""

import datetime as dt
import gzip
import json

import numpy as np
import pytest
from helpers import files_in_order, manifest

import synth
from synth.analysis.profile import profile_log
from synth.cli import main

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
T0 = dt.datetime(2026, 11, 20, 12, 0, 0)  # a Friday


def when(moment: dt.datetime, zone: str = "+0000") -> str:
    return f"{moment.day:02d}/{MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} {zone}"


def line(request="GET / HTTP/1.1", status=200, size=1000, *, client="203.0.113.7", at=T0, zone="+0000",
         referrer="-", agent=FIREFOX, common=False) -> str:
    """One Apache line; ``size=None`` writes ``-``; ``common`` leaves out referrer and agent."""
    head = f'{client} - - [{when(at, zone)}] "{request}" {status} {"-" if size is None else size}'
    return head if common else f'{head} "{referrer}" "{agent}"'


def write(path, lines, ending="\n"):
    path.write_text("".join(text + ending for text in lines))
    return path


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


# --- requests: methods, statuses, kinds, sizes --------------------------------------------

REQUESTS = [  # (request, status, size): 20 lines
    ("GET / HTTP/1.1", 200, 1000),
    ("GET / HTTP/1.1", 200, 1000),
    ("GET / HTTP/2.0", 200, 1000),
    ("GET / HTTP/1.1", 200, 1200),
    ("GET /about HTTP/1.1", 200, 500),
    ("GET /about HTTP/1.1", 200, 500),
    ("GET /about?x=1 HTTP/1.1", 200, 700),
    ("GET /css/site.css?v=3 HTTP/1.1", 200, 20000),
    ("GET /css/site.css?v=3 HTTP/1.1", 304, None),
    ("GET /img/logo.PNG HTTP/1.1", 200, 30000),
    ("GET /robots.txt HTTP/1.1", 200, 100),
    ("GET /feed.xml HTTP/1.1", 200, 4000),
    ("GET /missing.php HTTP/1.1", 404, 300),
    ("GET /old HTTP/1.1", 301, 250),
    ("HEAD / HTTP/1.1", 200, None),
    ("POST /api/comments.json HTTP/1.1", 201, 50),
    ("GET /js/app.js HTTP/1.1", 500, 400),
    ("-", 400, 300),
    ("GET /blog/ HTTP/1.1", 200, 8000),
    ("GET /blog/ HTTP/1.1", 200, 8000),
]


def test_request_figures_of_a_hand_made_log(tmp_path):
    """Methods, statuses, classes, bytes and same-size shares are exactly the counted ones."""
    log = write(tmp_path / "access.log", [line(r, s, b, at=T0 + dt.timedelta(seconds=i))
                                          for i, (r, s, b) in enumerate(REQUESTS)])
    p = profile_log([log])
    assert (p.lines, p.unparsed, p.profiled, p.log_format) == (20, 0, 20, "combined")
    assert p.methods == {"GET": 17 / 20, "(invalid)": 1 / 20, "HEAD": 1 / 20, "POST": 1 / 20}
    assert p.statuses == {"200": 14 / 20, "201": 1 / 20, "301": 1 / 20, "304": 1 / 20,
                          "400": 1 / 20, "404": 1 / 20, "500": 1 / 20}
    assert p.status_classes == {"1xx": 0.0, "2xx": 15 / 20, "3xx": 2 / 20, "4xx": 2 / 20, "5xx": 1 / 20}
    # static: site.css twice, logo.PNG, app.js; other: feed.xml, comments.json, the "-" request
    assert p.request_classes == {"static": 4 / 20, "page": 12 / 20, "robots": 1 / 20, "other": 3 / 20}
    # 18 lines with a body (the 304 and the HEAD write "-"): sorted, the 9th and 10th are 700
    # and 1000; p90 sits 0.3 of the way from the 16th (8000) to the 17th (20000).
    assert p.bytes_median == 850.0
    assert p.bytes_p90 == pytest.approx(11600.0)
    # GET 200s per target seen twice or more: "/" 3 of 4 at 1000, "/about" 2 of 2, "/blog/" 2 of 2
    assert p.same_size_share == 7 / 8
    assert p.first_time == "20/Nov/2026:12:00:00 +0000" and p.last_time == "20/Nov/2026:12:00:19 +0000"


# --- clients and paths: counts, concentration, Zipf slopes --------------------------------


def test_client_figures_and_exact_zipf_slopes(tmp_path):
    """Clients with 60/r lines (r = 1..6) lie on a slope of exactly -1, paths with 144/r^2
    (r = 1..3) on exactly -2; 49 one-line clients are below the rank cut and do not bend it."""
    clients = [f"198.51.100.{r}" for r, count in enumerate([60, 30, 20, 15, 12, 10], 1) for _ in range(count)]
    clients += [f"2001:db8::{k:x}" for k in range(45)] + [f"host-{k}.example.net" for k in range(4)]
    paths = ["/a"] * 144 + ["/b.css?v=1", "/b.css?v=2"] * 18 + ["/c/"] * 16
    assert len(clients) == len(paths) == 196
    log = write(tmp_path / "access.log", [line(f"GET {path} HTTP/1.1", client=client, at=T0 + dt.timedelta(seconds=i))
                                          for i, (client, path) in enumerate(zip(clients, paths))])
    p = profile_log([log])
    assert p.distinct_clients_per_10k == pytest.approx(55 / 196 * 10_000)
    assert p.top1_client_share == 60 / 196
    assert p.top10_client_share == (147 + 4) / 196
    assert p.client_zipf_slope == pytest.approx(-1.0)
    assert p.path_zipf_slope == pytest.approx(-2.0)  # the two queries of /b.css are one path


def test_zipf_sample_recovers_its_exponent(tmp_path):
    """Clients and paths drawn from p(rank) ~ rank^-s give slopes within 0.05 of -s."""
    rng = np.random.default_rng(2026)
    n = 100_000

    def zipf_ranks(exponent, items):
        p = np.arange(1, items + 1, dtype=float) ** -exponent
        return rng.choice(items, n, p=p / p.sum())

    clients, paths = zipf_ranks(0.8, 20_000), zipf_ranks(1.2, 5_000)
    stamp = when(T0)
    log = tmp_path / "zipf.log"
    log.write_text("".join(f'10.{c // 256}.{c % 256}.1 - - [{stamp}] "GET /p/{q} HTTP/1.1" 200 100 "-" "x"\n'
                           for c, q in zip(clients, paths)))
    p = profile_log([log])
    assert p.client_zipf_slope == pytest.approx(-0.8, abs=0.05)
    assert p.path_zipf_slope == pytest.approx(-1.2, abs=0.05)


def test_zipf_slope_needs_three_ranks_of_five(tmp_path):
    """With fewer than three clients of five or more lines there is no slope to fit."""
    log = write(tmp_path / "access.log", [line(client=c) for c in ["10.0.0.1"] * 9 + ["10.0.0.2"] * 5 + ["10.0.0.3"] * 4])
    p = profile_log([log])
    assert p.client_zipf_slope is None and p.path_zipf_slope is None


# --- agents: bots, referrers, sessions ----------------------------------------------------


def test_bots_and_referrers(tmp_path):
    """Bots by marker (any case) or a missing agent; referrers unless - or empty."""
    agents = [FIREFOX, FIREFOX, FIREFOX, GOOGLEBOT, "curl/8.5.0", "-", "",
              "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 3 subscribers; )",
              "Mozilla/5.0 (compatible; inoreader.com; 12 subscribers)", "Python-Requests/2.32"]
    referrers = ["https://www.google.com/", "-", "", "https://example.org/a", "-", "-", "-", "-", "-", "-"]
    log = write(tmp_path / "access.log", [line(referrer=r, agent=a, at=T0 + dt.timedelta(seconds=i))
                                          for i, (r, a) in enumerate(zip(referrers, agents))])
    p = profile_log([log])
    assert p.bot_share == 7 / 10
    assert p.referrer_share == 2 / 10


def test_sessions_split_on_gaps_over_30_minutes_per_client_and_agent(tmp_path):
    """A gap of exactly 30 minutes continues a session, 30 minutes and a second ends it; the
    same address with another agent is another session; zones are applied; file order is free."""
    quoted = 'Mozilla/5.0 \\"quoted\\" (X11)'
    seconds = dt.timedelta(seconds=1)
    first = [line(at=T0, agent=quoted), line(at=T0 + 60 * seconds, agent=quoted),
             line(at=T0 + 1860 * seconds, agent=quoted),                      # 30 min later: same
             line(at=T0 + 3661 * seconds, agent=quoted),                      # 30 min 1 s: new
             line(at=(T0 + 3700 * seconds + dt.timedelta(hours=1)), zone="+0100", agent=quoted),
             line(at=T0 + 100 * seconds, agent=FIREFOX)]                       # same IP, other agent
    later_file = write(tmp_path / "access.log", first)
    earlier_file = write(tmp_path / "access.log.1", [line(at=T0 - 7200 * seconds, client="::1", agent=quoted)])
    p = profile_log([later_file, earlier_file])
    # sessions of 3, 2, 1 and 1 lines
    assert p.sessions == 4
    assert p.session_requests_mean == 7 / 4
    assert p.session_requests_median == 1.5
    assert p.session_requests_p90 == pytest.approx(2.7)
    assert p.first_time == "20/Nov/2026:10:00:00 +0000"


# --- time: busiest/quietest hour, weekday/weekend -----------------------------------------


def test_hour_and_weekday_ratios_count_whole_hours_and_days(tmp_path):
    """From Friday 12:00 to Tuesday 00:30: one line an hour, two more at 18:00, one more every
    Monday hour; the partial first and last hours and days are crowded but left out."""
    lines = [line(at=T0 + dt.timedelta(seconds=s)) for s in range(0, 3600, 72)]          # 50 in Fri 12h
    hour = T0 + dt.timedelta(hours=1)
    end = dt.datetime(2026, 11, 24, 0, 0)
    while hour < end:
        extra = (2 if hour.hour == 18 else 0) + (1 if hour.weekday() == 0 else 0)
        lines += [line(at=hour + dt.timedelta(minutes=k)) for k in range(1 + extra)]
        hour += dt.timedelta(hours=1)
    lines += [line(at=end + dt.timedelta(seconds=s)) for s in range(0, 1800, 36)]        # 50 in Tue 00h
    p = profile_log([write(tmp_path / "access.log", lines)])
    # clock 18: (3 + 3 + 3 + 4) / 4 whole hours; 13..23: (1 + 1 + 1 + 2) / 4; 0..12: (1 + 1 + 2) / 3
    assert (p.busiest_hour, p.quietest_hour) == (18, 13)
    assert p.busiest_quietest_hour_ratio == pytest.approx(3.25 / 1.25)
    # whole days Saturday 26, Sunday 26, Monday 50 lines
    assert p.weekday_weekend_ratio == pytest.approx(50 / 26)


def test_ratios_are_none_without_whole_hours_or_weekend(tmp_path):
    """Less than a day of whole hours, or only weekdays, gives no ratio rather than a wrong one."""
    lines = [line(at=T0 - dt.timedelta(days=3) + dt.timedelta(hours=h)) for h in range(60)]  # Tue 12h..Thu 23h
    p = profile_log([write(tmp_path / "access.log", lines)])
    assert p.busiest_quietest_hour_ratio == pytest.approx(1.0)
    assert p.weekday_weekend_ratio is None
    p = profile_log([write(tmp_path / "short.log", lines[:20])])
    assert p.busiest_quietest_hour_ratio is None and p.busiest_hour is None


# --- sampling by minute -------------------------------------------------------------------


def test_minute_keeps_exactly_the_lines_of_that_minute(tmp_path):
    """--minute 5 keeps the lines written at :05, whatever the zone; ':05:' elsewhere in a line
    does not count; the counts of read and unparsed lines stay those of the whole input."""
    moments = [T0 + dt.timedelta(minutes=m, seconds=s) for m in range(0, 120, 1) for s in (0, 59)]
    lines = [line(at=t, zone="+0530" if t.minute % 2 else "+0000", request="GET /at/12:05:00/ HTTP/1.1")
             for t in moments] + ["junk"]
    log = write(tmp_path / "access.log", lines)
    p = profile_log([log], minute=5)
    assert (p.lines, p.unparsed, p.profiled, p.minute) == (241, 1, 4, 5)
    assert p.first_time == "20/Nov/2026:12:05:00 +0530" and p.last_time == "20/Nov/2026:13:05:59 +0530"
    assert profile_log([log]).profiled == 240


# --- formats and tolerance ----------------------------------------------------------------


def test_common_format_profiles_with_agent_figures_null(tmp_path):
    """Common lines give every figure but bots, referrers and sessions, which are None."""
    log = write(tmp_path / "access.log", [line("GET /a.css HTTP/1.1", 200, 5000, common=True),
                                          line("GET /b HTTP/1.1", 404, 300, common=True)])
    p = profile_log([log])
    assert p.log_format == "common" and p.unparsed == 0
    assert p.request_classes["static"] == 0.5 and p.statuses == {"200": 0.5, "404": 0.5}
    assert (p.bot_share, p.referrer_share, p.sessions, p.session_requests_mean) == (None, None, None, None)
    mixed = write(tmp_path / "mixed.log", [line(common=True), line(agent=GOOGLEBOT), line(referrer="https://a.example/")])
    p = profile_log([mixed])
    assert p.log_format == "mixed" and p.bot_share == 1 / 2 and p.referrer_share == 1 / 2 and p.sessions == 2


def test_unparsed_lines_are_counted_not_fatal(tmp_path):
    """Junk, blank lines, a bare quote in the agent and impossible dates are unparsed; IPv6,
    host names, escapes, extra trailing fields, CRLF endings and gzip are read."""
    good = [line(client="2001:db8::1", agent='a \\"b\\" c'),
            line(client="crawl-66-249-66-1.googlebot.com", request='GET /q?x=\\"1\\" HTTP/1.1'),
            line() + " 1234 example.org",
            line(at=dt.datetime(2024, 2, 29, 23, 59, 60 - 1))]
    bad = ["not a log line", "", line(agent='a "bare" quote'),
           line().replace("20/Nov/2026", "31/Feb/2026"), line().replace("12:00:00", "24:00:00")]
    plain = write(tmp_path / "access.log", good[:2] + bad[:3], ending="\r\n")
    packed = tmp_path / "access.log.2.gz"
    packed.write_bytes(gzip.compress("".join(t + "\n" for t in good[2:] + bad[3:]).encode()))
    p = profile_log([plain, packed])
    assert (p.lines, p.unparsed, p.profiled) == (9, 5, 4)
    assert p.first_unparsed == f"{plain}:3"
    only_dates = write(tmp_path / "dates.log", [line()] + bad[3:])
    assert profile_log([only_dates]).first_unparsed == f"{only_dates}:2"


def test_our_own_output_profiles_without_a_single_unparsed_line(tmp_path):
    """A generated run, profiled: every line parses, and the line count is the manifest's."""
    out = tmp_path / "out"
    synth.generate("classic", seed=3, days=1, rate=0.05, out_dir=out,
                   end=dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    p = profile_log(files_in_order(out))
    assert p.unparsed == 0 and p.log_format == "combined"
    assert p.lines == p.profiled == sum(f["lines"] for f in manifest(out)["files"])
    assert sum(p.request_classes.values()) == pytest.approx(1.0)


# --- the command --------------------------------------------------------------------------


def test_cli_json_is_the_library_profile(tmp_path, capsys):
    """--json prints the library's figures as one JSON object; the table shows them for people."""
    log = write(tmp_path / "access.log", [line(r, s, b, at=T0 + dt.timedelta(seconds=i))
                                          for i, (r, s, b) in enumerate(REQUESTS)])
    code, out, err = run_cli(["profile", "--json", str(log)], capsys)
    assert code == 0 and err == ""
    assert json.loads(out) == json.loads(json.dumps(profile_log([log]).as_dict()))
    code, out, _ = run_cli(["profile", "--minute", "0", str(log)], capsys)
    assert code == 0
    rows = dict(row.split("  ", 1) for row in out.splitlines())
    assert rows["bytes median"].strip().startswith("850 B")
    assert rows["statuses"].strip().startswith("200 70.0 %  201 5.0 %")
    assert rows["profiled"].strip().startswith("20 lines of minute 0 of each hour")


def broken_gzip(path):
    path.write_bytes(gzip.compress(line().encode())[:-12] + b"\x00" * 3)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: [str(d / "missing.log")], "no such file"),
    (lambda d: [str(write(d / "empty.log", []))], "is empty"),
    (lambda d: [str(d)], "no access.log* files in this folder"),  # a folder is a run folder: its files
    (lambda d: [str(write(d / "junk.log", ["hello", "world"]))], "is an Apache combined or common log line"),
    (lambda d: [str(broken_gzip(d / "access.log.gz"))], "gzip"),
    (lambda d: ["--minute", "7", str(write(d / "a.log", [line()]))], "has minute 7"),
    (lambda d: ["--minute", "60", "a.log"], "--minute"),
    (lambda d: [], "PATH"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, make, message):
    """No such file, an empty or junk file, a folder, bad gzip, no line left: one line, exit 2."""
    code, out, err = run_cli(["profile", *make(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
