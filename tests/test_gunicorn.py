"""End to end: real gunicorn with gunicorn.conf.py on 127.0.0.1, talking HTTP, through worker recycling."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(
    port: int, method: str, path: str, body: dict | None = None, timeout: float = 30
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


class Gunicorn:
    """gunicorn with the project's gunicorn.conf.py on a free loopback port, log in ``tmp``."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.log_path = tmp / "gunicorn.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        full = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ANALYTICS_DB": str(tmp / "analytics.sqlite3"),
            "MEMORY_LIMIT_MB": "4096",
            "RATELIMIT": "10000 per minute",
            **env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=full,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if _request(self.port, "GET", "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(self.log_path.read_text()[-3000:])

    def wait_for_workers(self, n: int) -> None:
        """Until the master has forked ``n`` workers: it forks them one by one, up to 0.1 s apart, and the
        first may answer before the last exists."""
        deadline = time.time() + 30
        while len(psutil.Process(self.proc.pid).children()) < n and time.time() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


# Small indexes are searched in numpy preloaded by the master; a Chroma-backed index is opened in
# each worker after the fork. Both paths must survive recycling.
@pytest.fixture(scope="module", params=["exact", "chroma"])
def server(request, bundled_index, tmp_path_factory):
    env = {
        "VECTOR_STORE_PATH": str(bundled_index),
        "GUNICORN_MAX_REQUESTS": "40",
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
        "EXACT_SEARCH_MAX_CHUNKS": "5000" if request.param == "exact" else "0",
    }
    g = Gunicorn(tmp_path_factory.mktemp("gunicorn"), env)
    yield g.port, g.log_path, request.param
    g.stop()


def test_health_chat_and_search_over_http(server) -> None:
    port, _, backend = server
    status, health = _request(port, "GET", "/health")
    assert status == 200 and health["status"] in ("healthy", "degraded")
    status, answer = _request(port, "POST", "/chat", {"message": "Can I carry over unused vacation days?"})
    assert status == 200 and answer["status"] == "answered" and answer["citations"]
    vector_store = _request(port, "GET", "/health")[1]["components"]["vector_store"]
    assert vector_store["status"] == "operational" and vector_store["search"] == backend
    # The memory manager is made in the master before the fork: a worker must report its own RSS.
    status, mem = _request(port, "GET", "/health/memory")
    own = psutil.Process(mem["worker_pid"]).memory_info().rss / 2**20
    assert status == 200 and abs(mem["memory_usage_mb"] - own) < 10, (mem["memory_usage_mb"], own)
    status, hits = _request(port, "POST", "/search", {"query": "hotel limit in Boston"})
    assert status == 200 and hits["hits"][0]["source"] == "travel_policy.md"
    status, err = _request(port, "POST", "/chat", {"nope": 1})
    assert status == 400 and err["error"]["field"] == "message"


def test_streaming_over_http(server) -> None:
    port, _, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/chat",
        body=json.dumps({"message": "How long must my password be?", "stream": True}),
        headers={"Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")
    text = resp.read().decode()
    conn.close()
    assert "event: delta" in text and text.rstrip().split("\n\n")[-1].startswith("event: answer")


def test_worker_recycling_loses_no_request(server) -> None:
    port, log, _ = server
    pids = set()

    def one(i: int) -> int:
        if i % 10 == 0:
            status, mem = _request(port, "GET", "/health/memory")
            pids.add(mem.get("worker_pid"))
            return status
        if i % 3 == 0:
            return _request(port, "POST", "/chat", {"message": "How many sick days do I get?"})[0]
        return _request(port, "POST", "/search", {"query": f"vacation days {i}"})[0]

    # max_requests is 40: 200 requests recycle the worker several times, with 4 clients at once.
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(one, range(200)))
    assert statuses.count(200) == len(statuses), {s: statuses.count(s) for s in set(statuses)}
    assert len(pids - {None}) >= 2, "the worker was not recycled"
    text = log.read_text()
    assert "SIGABRT" not in text and "Traceback" not in text


def test_every_worker_serves_a_reindex(bundled_index, tmp_path) -> None:
    """A reindex through one worker reaches the other worker and workers forked later (the master
    preloaded the previous generation)."""
    index = tmp_path / "index"
    shutil.copytree(bundled_index, index)
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "data" / "policies", policies)
    env = {
        "VECTOR_STORE_PATH": str(index),
        "POLICY_DIR": str(policies),
        "ADMIN_TOKEN": "t0ken-for-tests",
        "GUNICORN_MAX_REQUESTS": "15",
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
        "INDEX_CHECK_INTERVAL_S": "0",
    }
    g = Gunicorn(tmp_path, env)
    try:
        (policies / "parking.md").write_text(
            "# Parking Policy\n\nVisitors park on level P2 of the Wynkoop garage.\n", encoding="utf-8"
        )
        conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=60)
        conn.request("POST", "/admin/reindex", headers={"Authorization": "Bearer t0ken-for-tests"})
        resp = conn.getresponse()
        report = json.loads(resp.read())
        conn.close()
        assert resp.status == 200 and report["added"] == ["parking.md"]
        # 60 searches on fresh connections: both workers, and several recycled ones, answer them.
        sources, pids = [], set()
        for i in range(60):
            status, body = _request(g.port, "POST", "/search", {"query": f"where do visitors park {i}"})
            assert status == 200
            sources.append(body["hits"][0]["source"] if body["hits"] else None)
            if i % 10 == 0:
                pids.add(_request(g.port, "GET", "/health/memory")[1]["worker_pid"])
        assert sources.count("parking.md") == len(sources), sources
        assert len(pids) >= 2
        assert "Traceback" not in g.log_path.read_text()
    finally:
        g.stop()


def _search_count(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    pattern = re.compile(
        r'^policywise_http_requests_total\{(?=[^}]*endpoint="/search")(?=[^}]*status="200")[^}]*\} (\S+)$'
    )
    return sum(float(m.group(1)) for line in text.splitlines() if (m := pattern.match(line)))


def test_metrics_count_every_worker(server) -> None:
    """A scrape reaches one worker; the counts it returns are the whole service's."""
    port, _, _ = server
    before = _search_count(port)
    pids: set[int] = set()
    searches = 0
    # Until two workers have answered (the fixture recycles a worker every 40 requests, so this ends).
    while len(pids) < 2 or searches < 12:
        assert _request(port, "POST", "/search", {"query": f"hotel limit {searches}"})[0] == 200
        searches += 1
        pids.add(_request(port, "GET", "/health/memory")[1]["worker_pid"])
        assert searches < 100, "only one worker ever answered"
    # Several scrapes, reaching either worker, all count every search.
    for _ in range(4):
        assert _search_count(port) - before == searches


def test_keepalive_connections_are_rotated_without_losing_a_request(bundled_index, tmp_path) -> None:
    """Every 5th response of a worker closes its connection so clients spread over the workers;
    a client that keeps its connection open just reconnects."""
    g = Gunicorn(
        tmp_path,
        {
            "VECTOR_STORE_PATH": str(bundled_index),
            "GUNICORN_KEEPALIVE_REQUESTS": "5",
            "GUNICORN_MAX_REQUESTS": "0",
        },
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
        verdicts = []
        for _ in range(40):
            conn.request("GET", "/health")
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            verdicts.append(resp.getheader("Connection", "").lower())
        conn.close()
    finally:
        g.stop()
    # 40 requests over 2 workers: each worker closes after its 5th, 10th, ... (the first /health
    # calls were the start-up probes, so the exact positions vary).
    assert 5 <= verdicts.count("close") <= 10, verdicts
    assert verdicts.count("keep-alive") >= 30, verdicts


def test_worker_over_the_soft_memory_limit_retires_without_losing_a_request(bundled_index, tmp_path) -> None:
    # A soft limit of 1% of 4 GB: every worker is "over" it and retires after 200 requests.
    g = Gunicorn(
        tmp_path,
        {"VECTOR_STORE_PATH": str(bundled_index), "MEMORY_SOFT_RATIO": "0.01", "MEMORY_HARD_RATIO": "1.0"},
    )
    pids = set()
    try:
        statuses = []
        for i in range(700):
            if i % 20 == 0:
                status, mem = _request(g.port, "GET", "/health/memory")
                pids.add(mem.get("worker_pid"))
            else:
                status, _ = _request(g.port, "GET", "/health")
            statuses.append(status)
    finally:
        g.stop()
    assert statuses.count(200) == len(statuses), {s: statuses.count(s) for s in set(statuses)}
    assert len(pids - {None}) >= 3, "no worker retired"
    assert "retiring this worker" in g.log_path.read_text()


def _held_by(conn: http.client.HTTPConnection) -> int:
    """The worker holding this client's kept-alive connection: a worker holding too many answers with
    "Connection: close", and the client asks again on a new connection (http.client reconnects)."""
    for _ in range(10):
        conn.request("GET", "/health/memory")
        resp = conn.getresponse()
        assert resp.status == 200
        pid = json.loads(resp.read())["worker_pid"]
        if resp.getheader("Connection", "").lower() != "close":
            return pid
    raise AssertionError("the connection was closed ten times in a row")


def test_connections_spread_evenly_over_the_workers(bundled_index, tmp_path) -> None:
    """A kept-alive connection stays with the worker that accepted it; each worker accepts only while it
    holds fewer than the other + SLACK, so twenty clients end up within SLACK of ten and ten."""
    from policywise.web.worker import SLACK

    g = Gunicorn(
        tmp_path,
        {
            "VECTOR_STORE_PATH": str(bundled_index),
            "GUNICORN_KEEPALIVE_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS": "0",
        },
    )
    g.wait_for_workers(2)
    conns = []
    try:
        owners = []
        for _ in range(20):
            conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
            owners.append(_held_by(conn))
            conns.append(conn)  # kept open: the worker still holds it
    finally:
        for conn in conns:
            conn.close()
        g.stop()
    counts = sorted(owners.count(pid) for pid in set(owners))
    assert len(counts) == 2 and counts[1] - counts[0] <= SLACK, counts


def test_clients_move_to_a_new_worker_at_once(bundled_index, tmp_path) -> None:
    """A worker that holds more than SLACK connections above another closes each connection after its
    response, and does not take it back: twenty clients of one worker spread over a second one forked
    later (as after a recycle) within a round of requests, not only as keep-alive rotation allows."""
    from policywise.web.worker import SLACK

    g = Gunicorn(
        tmp_path,
        {
            "VECTOR_STORE_PATH": str(bundled_index),
            "WEB_CONCURRENCY": "1",
            "GUNICORN_KEEPALIVE_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS": "0",
        },
    )

    conns = [http.client.HTTPConnection("127.0.0.1", g.port, timeout=10) for _ in range(20)]
    try:
        first = {_held_by(c) for c in conns}
        g.proc.send_signal(signal.SIGTTIN)  # the master forks a second worker
        g.wait_for_workers(2)
        second = None
        for _ in range(20):  # until the new worker is serving (the first accepts no more once it sees it)
            probe = http.client.HTTPConnection("127.0.0.1", g.port, timeout=30)
            pid = _held_by(probe)
            probe.close()
            if pid not in first:
                second = pid
                break
        for _ in range(2):
            owners = [_held_by(c) for c in conns]
    finally:
        for conn in conns:
            conn.close()
        g.stop()
    assert len(first) == 1 and second is not None
    counts = sorted(owners.count(pid) for pid in {*first, second})
    assert counts[1] - counts[0] <= SLACK, counts


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: nothing to pin")
def test_each_worker_runs_on_a_core_of_its_own(bundled_index, tmp_path) -> None:
    n = len(os.sched_getaffinity(0))
    g = Gunicorn(
        tmp_path,
        {"VECTOR_STORE_PATH": str(bundled_index), "GUNICORN_MAX_REQUESTS": "0", "WEB_CONCURRENCY": str(n)},
    )
    try:
        deadline = time.time() + 10
        while True:  # the workers pin themselves right after the fork
            cores = [set(w.cpu_affinity()) for w in psutil.Process(g.proc.pid).children()]
            if (len(cores) == n and all(len(c) == 1 for c in cores)) or time.time() > deadline:
                break
            time.sleep(0.1)
    finally:
        g.stop()
    assert len(cores) == n and all(len(c) == 1 for c in cores) and len(set().union(*cores)) == n, cores


def test_a_retiring_worker_stops_holding_the_others_back() -> None:
    """The board the workers share: a worker that leaves (retiring, or reaped by the master) no longer
    counts, so the others accept its clients while it finishes; its slot goes to the next worker forked."""
    from policywise.web.worker import ConnectionBoard

    board = ConnectionBoard(slots=4)
    a = board.assign(set())
    b = board.assign({a})
    assert a is not None and b is not None and a != b
    board.publish(a, 7)
    board.publish(b, 3)
    assert board.fewest_elsewhere(a) == 3 and board.fewest_elsewhere(b) == 7
    board.leave(b)
    assert board.fewest_elsewhere(a) is None
    assert board.assign({a}) == b and board.fewest_elsewhere(a) == 0  # the new worker starts empty
