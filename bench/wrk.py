"""Throughput and p99 with wrk, a C load generator that leaves the CPU to the server under test.

The in-repo asyncio generator (:mod:`bench.load`) spends as much CPU as a small server and shares
the two cores with it, which flatters our ratio to the bare app. Here wrk sends pre-signed
requests over keep-alive connections to the shape people deploy:

* ``serve --workers 1`` and ``serve --workers 2`` (uvicorn's process manager), single workspace;
* the bare ack-only Bolt app (:mod:`bench.bare_app`) with 1 and 2 workers, served the same way;
* ``serve --workers 2`` in OAuth mode with 10,000 installed workspaces (:mod:`bench.workspaces`;
  authorization from the installation store), requests from users all over those workspaces.

Every window is a fixed ``seconds``; in each round every server takes its window in turn (bare,
ours, ...) for the same interaction and concurrency, and each figure is the median over rounds,
ratios taken within a round (the shared machine drifts, see :func:`bench.interactions.latency`).

wrk runs with one thread (``-t1``): one epoll loop drives eight connections at tens of thousands
of requests per second, far above anything measured here, so a second thread would only take
CPU from the server. Nothing is pinned to a core: with two workers on two cores, pinning would
only decide which worker shares its core with wrk and the stand-in.

The button click is "Pay" on the ``/billing`` overview (``show_invoices``): the primary button of
the ephemeral screen every command without text opens, and the way to every payment started
there, so the one people press most (History, Payment methods and Switch account are side
roads). It is answered by replacing that ephemeral message through its ``response_url``, off the
ack, and is done when that reply reaches the stand-in.

``measure(..., interactions=...)`` (``python -m bench --only wrk --interactions button``) runs a
chosen subset; servers with nothing to measure in it (OAuth mode but for balance and pay) are not
started.

Bodies are signed just before each window (a signature stays valid five minutes). Each window has
its own distinct bodies: 512 per interaction (128 users, a unique trigger id and ``response_url``
each) and, for the Home tab, one per request (``serve`` drops a repeated ``event_id`` as Slack's
retry; the count of repeats is reported and should be 0).

wrk times the HTTP answer (the ack). A slash command answered in its ack body is finished then;
the pay modal, the Home tab and the button click finish when ``views.open``/``views.update``/
``views.publish`` or the ``response_url`` reply reaches the stand-in, counted per window
("done/s"), so acks racing ahead of the work cannot flatter us. After each window the stand-in
is drained before the next one starts.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.generate import Sizes, account_external_id, invoice_counts, user_id
from bench.load import Workload
from bench.server import SIGNING_SECRET, Server, server_env
from bench.standin import StandIn
from bench.workspaces import BOT_USER_ID, CLIENT_ID, CLIENT_SECRET, install_workspaces, seed_principals, team_of
from billing_core.db.database import Database
from devtools.loopback.slack_signing import (
    app_home_opened_event,
    block_actions_body,
    block_actions_payload,
    button_action,
    event_body,
    slack_signature,
    slash_command_body,
)
from handlers.kit.ids import SHOW_INVOICES_ACTION

WRK_THREADS = 1
CONCURRENCY = (1, 8)
INTERACTIONS = ("balance", "pay", "pay_modal", "home", "button")
# Finished when their answer reaches the stand-in (after the ack), not at the ack.
FOLLOWED_UP = ("pay_modal", "home", "button")
BUTTON_ACTION = SHOW_INVOICES_ACTION  # "Pay" on the overview: see the module's docstring
OAUTH_INTERACTIONS = ("balance", "pay")
USERS = 128  # 64 with 50-invoice accounts, 64 spread over the data set
BODIES = 512
HOME_BODIES_PER_SECOND = 10_000  # above the bare app's rate: every app_home_opened its own event_id
DRAIN_SECONDS = 10.0
# One request in this many asks the server to close its connection, and wrk opens a new one.
# The workers of ``--workers N`` take turns at accept() on a shared socket, and eight kept-alive
# connections often land 8/0 or 7/1 on two workers for a whole window (seen with ``ss``); Slack's
# own traffic arrives on ever new connections. Reconnecting now and then shares the connections
# out again at the cost of one local TCP handshake per RECONNECT_EVERY requests, for both apps.
RECONNECT_EVERY = 32
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# One signed request a line: "content-type<TAB>timestamp<TAB>signature<TAB>body".
LUA = r"""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads, every = tonumber(args[2]), tonumber(args[3])
  reqs, n, sent = {}, 0, 0
  local k = 0
  for line in io.lines(args[1]) do
    if k % nthreads == tid then
      local ct, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = ct, ["X-Slack-Request-Timestamp"] = ts, ["X-Slack-Signature"] = sig}
      n = n + 1
      if n % every == 0 then headers["Connection"] = "close" end
      reqs[n] = wrk.format("POST", "/slack/events", headers, body)
    end
    k = k + 1
  end
end

function request()
  sent = sent + 1
  return reqs[(sent - 1) % n + 1]
end

function done(summary, latency, requests)
  local total, distinct, repeated = 0, 0, 0
  for _, t in ipairs(threads) do
    local s, m = t:get("sent"), t:get("n")
    total, distinct = total + s, distinct + m
    if s > m then repeated = repeated + s - m end
  end
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "sent": %d, "distinct": %d, "repeated": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, total, distinct, repeated))
end
"""


def ensure_wrk() -> str:
    """The path of wrk; installed from Debian's packages when absent (the bench runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


# -- requests ---------------------------------------------------------------------------------


class Bodies:
    """Distinct Slack request bodies for the interactions, in one workspace or in many."""

    def __init__(self, sizes: Sizes, standin: StandIn) -> None:
        self.standin = standin
        self.accounts = Workload(sizes, standin, pool=USERS).accounts
        self._counts = invoice_counts(sizes)

    def build(
        self, interaction: str, count: int, tag: str, team: Callable[[int], str] | None
    ) -> list[tuple[str, bytes]]:
        out = []
        for k in range(count):
            a = self.accounts[k % len(self.accounts)]
            token = f"{tag}{k:06d}"
            out.append(self._one(interaction, a, token, team(a) if team else "T111"))
        return out

    def _one(self, interaction: str, a: int, token: str, team_id: str) -> tuple[str, bytes]:
        response_url = self.standin.response_url(token)
        if interaction in ("balance", "pay"):
            return FORM, slash_command_body(
                interaction, user_id=user_id(a), team_id=team_id, response_url=response_url, trigger_id=token
            )
        if interaction == "pay_modal":
            value = json.dumps({"account": account_external_id(a), "invoice": f"INV-{a:06d}-{self._counts[a] - 1:03d}"})
            payload = block_actions_payload(
                button_action("pay_open", value),
                user_id=user_id(a),
                team_id=team_id,
                trigger_id=token,
                response_url=response_url,
            )
            return FORM, block_actions_body(payload)
        if interaction == "button":  # pressed on the ephemeral overview (its response_url replaces it)
            payload = block_actions_payload(
                button_action(BUTTON_ACTION, json.dumps({"account": account_external_id(a)}), text="Pay"),
                user_id=user_id(a),
                team_id=team_id,
                trigger_id=token,
                response_url=response_url,
            )
            return FORM, block_actions_body(payload)
        if interaction == "home":
            event = app_home_opened_event(user_id=user_id(a))
            return JSON, event_body(event, team_id=team_id, bot_user_id=BOT_USER_ID, event_id=f"Ev{token.upper()}")
        raise ValueError(interaction)


def write_signed(path: Path, bodies: list[tuple[str, bytes]]) -> None:
    """Sign every body now and write wrk's request file."""
    ts = str(int(time.time()))
    with path.open("w") as out:
        for content_type, body in bodies:
            text = body.decode()
            if "\t" in text or "\n" in text:
                raise ValueError("a body with a tab or a newline cannot go in the request file")
            out.write(f"{content_type}\t{ts}\t{slack_signature(SIGNING_SECRET, body, ts)}\t{text}\n")


def parse_wrk(output: str) -> dict[str, Any]:
    """The figures our Lua ``done()`` prints (``BENCH {...}``) from wrk's output."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            figures: dict[str, Any] = json.loads(line[len("BENCH ") :])
            return figures
    raise RuntimeError(f"no BENCH line in wrk's output:\n{output[-2000:]}")


# -- windows ----------------------------------------------------------------------------------


@dataclass
class Window:
    server: str
    interaction: str
    concurrency: int
    round: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors, timeouts and non-2xx answers
    repeated: int  # requests that reused a body (fine but for Home: there 0 expected)
    finished: int  # completions at the stand-in during the window (follow-ups)
    drained: int  # completions after the window ended (backlog)
    worker_cpu_s: list[float]  # CPU seconds each worker process used in the window, most first

    @property
    def done_rps(self) -> float:
        """Finished interactions per second: our modal, Home tab or button's reply is done when
        Slack got it; the bare app's, at its ack (it does nothing else)."""
        if self.interaction in FOLLOWED_UP and not self.server.startswith("bare"):
            return round(self.finished / self.seconds, 1) if self.seconds else 0.0
        return self.rps


@dataclass(frozen=True)
class Target:
    """A server under test."""

    name: str
    kind: str  # "ours" or "bare"
    workers: int
    oauth: bool = False


TARGETS = (
    Target("bare-w1", "bare", 1), Target("ours-w1", "ours", 1),
    Target("bare-w2", "bare", 2), Target("ours-w2", "ours", 2),
    Target("oauth-w2", "ours", 2, oauth=True),
)  # fmt: skip


class Runner:
    def __init__(self, wrk: str, standin: StandIn, bodies: Bodies, work: Path, log: Path) -> None:
        self.wrk = wrk
        self.standin = standin
        self.bodies = bodies
        self.work = work
        self.log = log
        self.script = work / "signed.lua"
        self.script.write_text(LUA)
        self._serial = 0
        self._best: dict[tuple[str, str], float] = {}  # best requests/s seen, per server and interaction

    async def window(
        self, target: Target, server: Server, interaction: str, concurrency: int, seconds: int, round_: int
    ) -> Window:
        self._serial += 1
        count = self._bodies_needed(target, interaction, seconds)
        team = team_of if target.oauth else None
        data = self.work / "requests.txt"
        write_signed(data, self.bodies.build(interaction, count, f"w{self._serial:05d}x", team))
        before = sum(self.standin.finished.values())
        argv = [
            self.wrk,
            f"-t{WRK_THREADS}",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(self.script),
            f"http://127.0.0.1:{server.port}/slack/events",
            "--",
            str(data),
            str(WRK_THREADS),
            str(RECONNECT_EVERY),
        ]
        cpu_before = server.cpu_seconds()
        process = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        raw, _ = await asyncio.wait_for(process.communicate(), seconds + 60)
        at_end = sum(self.standin.finished.values())
        cpu = server.cpu_seconds()
        worker_cpu = sorted((round(t - cpu_before.get(pid, 0.0), 2) for pid, t in cpu.items()), reverse=True)
        drained = await self._drain(at_end)
        text = raw.decode(errors="replace")
        with self.log.open("a") as log:
            log.write(f"== {target.name} {interaction} c={concurrency} round {round_}\n{text}\n")
        figures = parse_wrk(text)
        elapsed = figures["duration_us"] / 1e6
        if elapsed:
            key = (target.name, interaction)
            self._best[key] = max(self._best.get(key, 0.0), figures["requests"] / elapsed)
        errors = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
        return Window(
            server=target.name, interaction=interaction, concurrency=concurrency, round=round_,
            seconds=round(elapsed, 3), requests=figures["requests"],
            rps=round(figures["requests"] / elapsed, 1) if elapsed else 0.0,
            p50_ms=round(figures["p50_us"] / 1000, 2), p99_ms=round(figures["p99_us"] / 1000, 2),
            max_ms=round(figures["max_us"] / 1000, 2), errors=errors, repeated=figures["repeated"],
            finished=at_end - before, drained=drained - at_end, worker_cpu_s=worker_cpu,
        )  # fmt: skip

    def _bodies_needed(self, target: Target, interaction: str, seconds: int) -> int:
        """512, or for Home one per request: half as many again as this server's best rate so far
        (wrk reads the file before its clock starts, but a larger file still costs a little)."""
        if interaction != "home":
            return BODIES
        seen = self._best.get((target.name, interaction))
        rate = HOME_BODIES_PER_SECOND if seen is None else min(HOME_BODIES_PER_SECOND, 1.5 * seen + 200)
        return max(BODIES, int(rate * seconds))

    async def _drain(self, at_end: int) -> int:
        """Wait until follow-ups stop reaching the stand-in (quiet for 0.5 s, at most DRAIN_SECONDS)."""
        last, quiet_since = at_end, time.monotonic()
        deadline = quiet_since + DRAIN_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            now = sum(self.standin.finished.values())
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= 0.5:
                break
        return last


# -- rows -------------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _paired(mine: list[Window], base: list[Window], *, done: bool = True) -> float | None:
    """Median over rounds of ``mine``'s throughput / ``base``'s in the same round."""
    by_round = {w.round: w for w in base}
    ratios = [
        (m.done_rps if done else m.rps) / by_round[m.round].done_rps
        for m in mine
        if m.round in by_round and by_round[m.round].done_rps
    ]
    return _median(ratios)


def _busiest(windows: list[Window]) -> float | None:
    """Median share of the busiest worker in the server's CPU time (0.5: two workers evenly loaded)."""
    return _median([max(w.worker_cpu_s) / sum(w.worker_cpu_s) for w in windows if sum(w.worker_cpu_s) > 0])


def rows(windows: list[Window]) -> dict[str, list[dict[str, Any]]]:
    def of(server: str, interaction: str, c: int) -> list[Window]:
        return [w for w in windows if (w.server, w.interaction, w.concurrency) == (server, interaction, c)]

    cells: list[dict[str, Any]] = []
    for interaction in INTERACTIONS:
        for c in CONCURRENCY:
            for workers in (1, 2):
                ours, bare = of(f"ours-w{workers}", interaction, c), of(f"bare-w{workers}", interaction, c)
                if not ours:
                    continue
                cells.append({
                    "interaction": interaction, "concurrency": c, "workers": workers,
                    "rps": _median([w.rps for w in ours]), "done_rps": _median([w.done_rps for w in ours]),
                    "p50_ms": _median([w.p50_ms for w in ours]), "p99_ms": _median([w.p99_ms for w in ours]),
                    "bare_rps": _median([w.rps for w in bare]), "bare_p99_ms": _median([w.p99_ms for w in bare]),
                    "rps_vs_bare": _paired(ours, bare),
                    "busiest_worker_share": _busiest(ours), "bare_busiest_worker_share": _busiest(bare),
                    "errors": sum(w.errors for w in ours + bare),
                    # Only Home needs a body per request (a repeated event_id is dropped as a retry).
                    "repeated_events": sum(w.repeated for w in ours + bare) if interaction == "home" else None,
                    "windows": len(ours),
                })  # fmt: skip
    scaling = [
        {"interaction": i, "concurrency": c, "w1_rps": _median([w.done_rps for w in of("ours-w1", i, c)]),
         "w2_rps": _median([w.done_rps for w in of("ours-w2", i, c)]),
         "w2_vs_w1": _paired(of("ours-w2", i, c), of("ours-w1", i, c)),
         "bare_w2_vs_w1": _paired(of("bare-w2", i, c), of("bare-w1", i, c))}
        for i in INTERACTIONS for c in CONCURRENCY if of("ours-w2", i, c)
    ]  # fmt: skip
    oauth = [
        {"interaction": i, "concurrency": c, "workers": 2, "rps": _median([w.rps for w in of("oauth-w2", i, c)]),
         "p99_ms": _median([w.p99_ms for w in of("oauth-w2", i, c)]),
         "single_rps": _median([w.rps for w in of("ours-w2", i, c)]),
         "single_p99_ms": _median([w.p99_ms for w in of("ours-w2", i, c)]),
         "vs_single": _paired(of("oauth-w2", i, c), of("ours-w2", i, c)),
         "errors": sum(w.errors for w in of("oauth-w2", i, c))}
        for i in OAUTH_INTERACTIONS for c in CONCURRENCY if of("oauth-w2", i, c)
    ]  # fmt: skip
    return {"cells": cells, "scaling": scaling, "oauth": oauth}


# -- the section ------------------------------------------------------------------------------


def oauth_env(env: dict[str, str]) -> dict[str, str]:
    """``serve``'s environment as an OAuth install: client id and secret, no ``SLACK_BOT_TOKEN``."""
    out = {k: v for k, v in env.items() if k != "SLACK_BOT_TOKEN"}
    out.update({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET})
    return out


def _chosen(interactions: tuple[str, ...] | None) -> tuple[str, ...]:
    """The interactions to measure, in the order of ``INTERACTIONS`` (all when none are named)."""
    if not interactions:
        return INTERACTIONS
    unknown = sorted(set(interactions) - set(INTERACTIONS))
    if unknown:
        raise ValueError(f"no such interaction: {', '.join(unknown)} (choose from {', '.join(INTERACTIONS)})")
    return tuple(i for i in INTERACTIONS if i in interactions)


async def measure(
    database_url: str,
    sizes: Sizes,
    log_dir: Path,
    *,
    seconds: int,
    rounds: int,
    warm_seconds: int,
    interactions: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Every server, interaction and concurrency in alternating windows of ``seconds``;
    ``interactions`` names a subset (default: all)."""
    chosen = _chosen(interactions)
    oauth_chosen = tuple(i for i in OAUTH_INTERACTIONS if i in chosen)
    targets = tuple(t for t in TARGETS if oauth_chosen or not t.oauth)
    wrk = ensure_wrk()
    version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    standin = await StandIn().start()
    servers: dict[str, Server] = {}
    windows: list[Window] = []
    installed: dict[str, Any] | None = None
    try:
        bodies = Bodies(sizes, standin)
        if oauth_chosen:
            db = Database(database_url)
            try:
                installed = install_workspaces(db)
                installed["principals"] = seed_principals(db, bodies.accounts)
            finally:
                db.dispose()
        env = server_env(database_url, standin.api_url, standin.root_url)
        for target in targets:
            make = Server.ours if target.kind == "ours" else Server.bare
            servers[target.name] = make(
                oauth_env(env) if target.oauth else env, log_dir, workers=target.workers, name=target.name
            )
        work = log_dir / "wrk"
        work.mkdir(exist_ok=True)
        runner = Runner(wrk, standin, bodies, work, log_dir / "wrk.log")
        loop = asyncio.get_running_loop()
        for server in servers.values():
            await loop.run_in_executor(None, server.__enter__)
        # Warm every worker: identity caches, connections to the database and to the stand-in.
        # Several short runs, since each worker only sees the connections the kernel gives it.
        for target in targets:
            for interaction in oauth_chosen if target.oauth else chosen:
                for _ in range(3 if interaction == "balance" else 1):
                    await runner.window(target, servers[target.name], interaction, 8, warm_seconds, 0)
        for interaction in chosen:
            for c in CONCURRENCY:
                for round_ in range(1, rounds + 1):
                    for target in targets:
                        if target.oauth and interaction not in oauth_chosen:
                            continue
                        windows.append(
                            await runner.window(target, servers[target.name], interaction, c, seconds, round_)
                        )
    finally:
        for server in servers.values():
            server.stop()
        await standin.stop()
    return {
        "wrk": version[0] if version else wrk, "threads": WRK_THREADS, "seconds": seconds, "rounds": rounds,
        "interactions": list(chosen), "oauth_setup": installed, "web_api_calls": dict(standin.counts),
        **rows(windows), "windows": [asdict(w) | {"done_rps": w.done_rps} for w in windows],
    }  # fmt: skip
