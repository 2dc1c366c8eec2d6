"""asyncstudy's Python harness: the seed notebooks' own concurrency models, run for the Rust
harness that starts it (src/executor/python.rs), which measures them like its own runtimes.

The seed notebooks themselves are not in the repository. The loops below are reconstructed
from the Rust workloads' documentation and tests (src/workload/cpu.rs), which give the Python
text each Rust loop mirrors and compare the Rust loops with CPython's results for exactly these
functions (long_comp's exact integer steps included).

Protocol (one run, one interpreter):
  stdin   one JSON line: the plan (model, workers, in-flight limit, tasks, rate, the work, the
          parent's pid); then nothing.
  stdout  JSON lines only:
          {"ready": {"t0_ns": T, "pid": P, "start_method": M}}  every worker runs; T is the
              ready time, when the arrival clock started (time.monotonic_ns(), which is
              CLOCK_MONOTONIC on Linux, the Rust side's clock)
          [task, submit_ns, start_ns, end_ns, pid, tid, bytes, kind, message]  one per task;
              kind and message are null for a task that succeeded
          {"end": {"peak_rss": B, "unmeasured": N, "processes": P, "threads": T}}  after
              every worker has been shut down; P counts the interpreter and its pool's worker
              processes, T the most threads the interpreter had alive at once
          {"error": "..."}  the harness could not run (a worker would not start, a module is
              missing); the process then exits with code 3
  stderr  whatever Python prints (tracebacks of the harness itself).

The harness is one file on purpose: it is passed whole to `python -c`, so nothing has to be
installed or found on disk, and forked pool workers reach its functions in `__main__`.

A task that fails is a record with an error kind from the Rust side's list (timeout, connect,
tls, http_4xx, http_5xx, reset, protocol, redirect, too_large, write, request, check, panic,
worker), never an exception out of the harness.
"""

import json
import math
import os
import stat
import sys
import threading
import time

# ---------------------------------------------------------------------------------------------
# The seeds' loops.


def spin(n):
    """Seed 000: `for _ in range(1_000_000): pass`, 20 items per task (n steps in all)."""
    for _ in range(n):
        pass
    return n


def long_comp(i, n):
    """Seed 002 `long_comp`, with the task index as the start and n steps."""
    x = i
    for y in range(n):
        x = (x - y) ** 2 if x % 2 == 0 else (x + y) ** 0.5
    return x


def compute_intensive(n):
    """Seed 001 `compute_intensive`: foo starts at 0, so it ends at 0."""
    foo = 0
    for i in range(n):
        foo += foo * math.cos(i * math.pi)
    return foo


# ---------------------------------------------------------------------------------------------
# What a task does.

# The run's work, set in the interpreter before the pool starts and in every pool worker by
# its initializer.
WORK = None

# Names and header values of the Rust side's request policy (src/workload/download/policy.rs).
HEADERS = {}


class Failed(Exception):
    """A task's recorded failure: an error kind and what happened."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def cpu(w, i):
    kind, n = w["kind"], w["iters"]
    if kind == "spin":
        got = spin(n)
        if got != n:
            raise Failed("check", f"spin counted {got}, expected {n}")
    elif kind == "comp":
        x = long_comp(i, n)
        try:
            ok = x >= 0 and math.isfinite(x)
        except OverflowError:
            ok = True  # an exact int too large for a float: still finite and >= 0
        if not ok:
            raise Failed("check", f"long_comp gave {x}")
    elif kind == "cos":
        got = compute_intensive(n)
        if got != 0:
            raise Failed("check", f"compute_intensive gave {got}, expected 0")
    return 0


def io_index(task, io_tasks, tasks):
    """Which IO task a mixed run's task is, or None for a CPU task (src/workload/mixed.rs)."""
    if task >= tasks or tasks == 0:
        return None
    at = lambda t: t * io_tasks // tasks  # noqa: E731
    return at(task) if at(task + 1) > at(task) else None


def run_blocking(i):
    """Runs task i on the calling thread, blocking it for any IO; returns the bytes fetched."""
    w = WORK
    kind = w["kind"]
    if kind == "cpu":
        return cpu(w["cpu"], i)
    if kind == "sleep":
        time.sleep(w["seconds"])
        return 0
    if kind == "download":
        return download_urllib(w, i)
    j = io_index(i, w["io_tasks"], w["tasks"])
    if j is None:
        return cpu(w["cpu"], i)
    io = w["io"]
    if io["kind"] == "sleep":
        time.sleep(io["seconds"])
        return 0
    return download_urllib(io, j)


def run_task(i, submit_ns):
    """Task i's record, timed on this thread: what every model calls for a blocking task."""
    start = time.monotonic_ns()
    try:
        got, kind, message = run_blocking(i), None, None
    except Failed as e:
        got, kind, message = 0, e.kind, e.message
    except Exception as e:  # a bug in the harness or the interpreter: recorded, not raised
        got, kind, message = 0, "panic", f"{type(e).__name__}: {e}"
    end = time.monotonic_ns()
    return [i, submit_ns, start, end, os.getpid(), threading.get_native_id(), got, kind, message]


# ---------------------------------------------------------------------------------------------
# Pages: seed 001's urlopen, then the page rewritten `writes` times.

PAGE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY


def page_opener(path, flags):
    """Opens a page file as every Rust runtime does: never through a symlink, never blocking
    on a FIFO."""
    return os.open(path, flags | PAGE_FLAGS, 0o666)


def write_page(path, page, writes):
    for _ in range(writes):
        try:
            with open(path, "wb", opener=page_opener) as f:
                mode = os.fstat(f.fileno()).st_mode
                if not stat.S_ISREG(mode):
                    what = "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
                    raise Failed(
                        "write",
                        f"{path}: not a regular file ({what}); "
                        "a page is only written to a regular file",
                    )
                f.write(page)
        except OSError as e:
            why = " (is a symlink)" if e.errno == 40 else ""
            raise Failed("write", f"{path}: {e.strerror}{why}") from None


# Redirects are followed here, not by urllib or aiohttp, by the Rust side's rule (next_hop in
# src/workload/download/policy.rs): both libraries have limits and refusals of their own.
MAX_REDIRECTS = 5


def next_hop(url, status, location, hops):
    """Where an answer with `status` and `location` to a request for `url` sends the client
    next, after `hops` redirects: None when it is the final answer."""
    import urllib.parse

    if status not in (301, 302, 303, 307, 308):
        return None

    def refuse(why):
        return Failed("redirect", f"HTTP {status}: {why}")

    if location is None:
        raise refuse("a redirect without a Location")
    if not location.isascii():
        raise refuse("a Location that is not ASCII text")
    nxt = urllib.parse.urldefrag(urllib.parse.urljoin(url, location))[0]
    parts = urllib.parse.urlsplit(nxt)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse(f'Location "{location}" is not an http(s) URL with a host')
    if parts.username is not None or parts.password is not None:
        raise refuse("a Location with credentials (user:password@) is refused")
    if hops >= MAX_REDIRECTS:
        raise refuse(f"more than {MAX_REDIRECTS} redirects (the next to {nxt})")
    return nxt


def status_error(status):
    if 300 <= status < 400:
        return Failed("redirect", f"HTTP {status}, which is not a redirect that can be followed")
    if 400 <= status < 500:
        return Failed("http_4xx", f"HTTP {status}")
    if 500 <= status < 600:
        return Failed("http_5xx", f"HTTP {status}")
    return Failed("request", f"HTTP {status}")


OPENER = None
TLS = None


def tls_context(d):
    """What https trusts: the run's one certificate and nothing else when it has one (the
    embedded server's, --server-cert), else the interpreter's default roots. Verification is
    never turned off."""
    global TLS
    if TLS is None:
        import ssl

        der = d.get("trust_der_hex")
        TLS = ssl.create_default_context(cadata=bytes.fromhex(der)) if der else ssl.create_default_context()
    return TLS


def opener(d):
    """urllib's opener under the policy: no proxy from the environment, and no redirect
    followed by urllib (a 3xx comes back as an HTTPError, for next_hop)."""
    global OPENER
    if OPENER is None:
        import urllib.request

        class NoRedirects(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, req, fp, code, msg, headers, newurl):
                return None

        OPENER = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=tls_context(d)),
            NoRedirects(),
        )
    return OPENER


def in_chain(e, kind):
    """The first exception of `kind` among `e` and what it was raised from or during."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, kind):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def classify_urllib(e):
    """The Rust side's error kind for what urllib raised."""
    import http.client
    import socket
    import urllib.error

    if isinstance(e, urllib.error.HTTPError):
        return status_error(e.code)
    reason = e.reason if isinstance(e, urllib.error.URLError) else e
    connecting = isinstance(e, urllib.error.URLError)
    import ssl

    if isinstance(reason, (socket.timeout, TimeoutError)):
        return Failed("timeout", "no complete answer within --timeout")
    if isinstance(reason, ssl.SSLError):
        return Failed("tls", f"the TLS handshake failed: {reason}")
    if isinstance(reason, http.client.RemoteDisconnected):
        return Failed("reset", f"the connection closed without an answer: {reason}")
    bad_size = in_chain(reason, ValueError)
    if isinstance(reason, http.client.IncompleteRead) and bad_size is not None:
        # http.client raises IncompleteRead for a chunk size line that is not hex.
        return Failed("protocol", f"bad chunked encoding: {bad_size}")
    if isinstance(reason, (ConnectionResetError, BrokenPipeError, http.client.IncompleteRead)):
        return Failed("reset", f"the connection broke: {reason!r}")
    if isinstance(reason, http.client.HTTPException):
        return Failed("protocol", f"not an HTTP answer: {reason!r}")
    if isinstance(reason, OSError) and connecting:
        return Failed("connect", f"could not connect: {reason}")
    if isinstance(reason, OSError):
        return Failed("reset", f"the connection broke: {reason}")
    return Failed("request", f"the request failed: {reason}")


def download_urllib(d, j):
    """GET page j with urllib's urlopen (a new connection per request, as in seed 001), read its
    body, then rewrite it to its file."""
    url, path = d["pages"][j % len(d["pages"])]
    deadline = time.monotonic() + d["timeout"]
    import urllib.error
    import urllib.request

    hops = 0
    while True:
        req = urllib.request.Request(url, headers=HEADERS)
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed("timeout", "no complete answer within --timeout")
            with opener(d).open(req, timeout=left) as resp:
                page = read_body(resp, d["max_page_size"], deadline)
            break
        except urllib.error.HTTPError as e:
            # A 3xx (urllib follows none) or an error status: the answer is read no further.
            e.close()
            nxt = next_hop(url, e.code, e.headers.get("Location"), hops)
            if nxt is None:
                raise status_error(e.code) from None
            url, hops = nxt, hops + 1
        except Failed:
            raise
        except Exception as e:
            raise classify_urllib(e) from None
    write_page(path, page, d["writes"])
    return len(page)


def read_body(resp, limit, deadline):
    # urllib's timeout bounds each socket operation; the deadline between reads bounds the
    # whole answer, as --timeout does on the Rust side.
    body = bytearray()
    while True:
        chunk = resp.read(64 * 1024)
        if not chunk:
            # read(n) ends quietly at an early end of the stream; what the Content-Length
            # announced and did not come is left in resp.length.
            if resp.length:
                got, announced = len(body), len(body) + resp.length
                short = f"({got} of {announced} bytes received)"
                raise Failed("reset", f"the body ended short of its Content-Length {short}")
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise Failed("too_large", f"the body is over --max-page-size ({limit} bytes)")
        if time.monotonic() > deadline:
            raise Failed("timeout", "no complete answer within --timeout")


# ---------------------------------------------------------------------------------------------
# Thread, process and serial models: concurrent.futures, as the seeds use it.


def prctl_parent_death():
    """Dies with its parent: a killed asyncstudy (or interpreter) leaves no worker running."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def init_worker(work, headers, barrier, process):
    """A pool worker's start: hold the work, then report in and wait for every other worker."""
    global WORK, HEADERS
    WORK, HEADERS = work, headers
    if process:
        prctl_parent_death()
    barrier.wait(timeout=START_LIMIT)


def warm():
    return None


START_LIMIT = 60.0


# The most threads this interpreter had alive at once (threading.active_count(), its main
# thread included), looked at as each task's line is added and at the end: a pool's threads
# live until it shuts down, so a look per task sees them all.
PEAK_THREADS = [1]


def note_threads():
    PEAK_THREADS[0] = max(PEAK_THREADS[0], threading.active_count())


class Out:
    """Task lines to stdout, a batch per write."""

    def __init__(self):
        self.lines = []

    def add(self, rec):
        note_threads()
        self.lines.append(json.dumps(rec, separators=(",", ":")))

    def flush(self):
        if self.lines:
            sys.stdout.write("\n".join(self.lines) + "\n")
            sys.stdout.flush()
            self.lines = []


def say(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def due(plan, t0, i):
    rate = plan["rate"]
    return t0 if rate is None else t0 + round(i * 1e9 / rate)


def run_serial(plan):
    t0 = time.monotonic_ns()
    say({"ready": {"t0_ns": t0, "pid": os.getpid(), "start_method": None}})
    out = Out()
    for i in range(plan["tasks"]):
        submit = due(plan, t0, i)
        wait = submit - time.monotonic_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        out.add(run_task(i, submit))
        out.flush()
    return [], 0


def run_pool(plan):
    import concurrent.futures as cf
    import multiprocessing
    import queue

    n, tasks, process = plan["workers"], plan["tasks"], plan["model"] == "processes"
    if process:
        # fork, as ProcessPoolExecutor on Linux has always done for the seeds; it also keeps
        # the harness's functions reachable from a `-c` script under any Python version.
        ctx = multiprocessing.get_context("fork")
        barrier = ctx.Barrier(n + 1)
        pool = cf.ProcessPoolExecutor(
            max_workers=n,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(WORK, HEADERS, barrier, True),
        )
    else:
        barrier = threading.Barrier(n + 1)
        pool = cf.ThreadPoolExecutor(
            max_workers=n, initializer=init_worker, initargs=(WORK, HEADERS, barrier, False)
        )
    # n pieces of nothing make the pool start all n workers now; each holds its thread or
    # process at the barrier until all are up, so no two pieces share a worker.
    warming = [pool.submit(warm) for _ in range(n)]
    try:
        barrier.wait(timeout=START_LIMIT)
        cf.wait(warming, timeout=START_LIMIT)
        for w in warming:
            w.result(timeout=0)
    except Exception as e:
        say({"error": f"could not start the {n} workers of the pool: {type(e).__name__} {e}"})
        os._exit(3)
    t0 = time.monotonic_ns()
    say({"ready": {"t0_ns": t0, "pid": os.getpid(), "start_method": ctx.get_start_method() if process else None}})
    done = queue.SimpleQueue()
    out = Out()
    pids = set()

    def collect(fut, i, submit):
        try:
            rec = fut.result()
        except Exception as e:  # the pool lost the worker (BrokenProcessPool) or the task
            now = time.monotonic_ns()
            kind = "worker" if process else "panic"
            rec = [i, submit, now, now, os.getpid(), threading.get_native_id(), 0, kind,
                   f"{type(e).__name__}: {e}"]
        done.put(rec)

    finished = 0

    def drain(block_until):
        nonlocal finished
        while True:
            timeout = None if block_until is None else (block_until - time.monotonic_ns()) / 1e9
            if timeout is not None and timeout <= 0:
                break
            try:
                rec = done.get(timeout=timeout)
            except queue.Empty:
                break
            out.add(rec)
            pids.add(rec[4])
            finished += 1
            if block_until is None:
                break
        out.flush()

    for i in range(tasks):
        submit = due(plan, t0, i)
        if submit > time.monotonic_ns():
            drain(submit)
        fut = pool.submit(run_task, i, submit)
        fut.add_done_callback(lambda f, i=i, s=submit: collect(f, i, s))
    while finished < tasks:
        drain(None)
    workers = list(pids) if process else []
    if process:
        workers = list(set(workers) | {p.pid for p in getattr(pool, "_processes", {}).values()})
    peaks = [peak_rss(p) for p in workers]
    pool.shutdown(wait=True)
    return peaks, 0


def peak_rss(pid="self"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------------------------
# asyncio: the one async model Python ships.


def classify_aiohttp(e):
    """The Rust side's error kind for what aiohttp raised, with the same leading phrase."""
    import asyncio

    import aiohttp
    from aiohttp import http_exceptions as parse

    if isinstance(e, asyncio.TimeoutError):
        return Failed("timeout", "no complete answer within --timeout")
    # The parser's own error says what broke: a chunk (found in the body, or by llhttp with the
    # head, which says so only in its message), or a body short of its Content-Length.
    bad = in_chain(e, parse.BadHttpMessage)
    if isinstance(bad, parse.TransferEncodingError) or (
        isinstance(bad, parse.BadHttpMessage) and "chunk" in str(bad.message).lower()
    ):
        return Failed("protocol", f"bad chunked encoding: {bad.message}")
    if isinstance(bad, parse.ContentLengthError):
        return Failed("reset", f"the body ended short of its Content-Length: {e}")
    # The first that matches: subclasses come before the classes they refine.
    for cls, kind, phrase in (
        (aiohttp.ClientSSLError, "tls", "the TLS handshake failed"),
        (aiohttp.ClientConnectorError, "connect", "could not connect"),
        (aiohttp.ServerDisconnectedError, "reset", "the connection closed without an answer"),
        (aiohttp.ClientPayloadError, "reset", "the body ended short of its Content-Length"),
        (aiohttp.ClientResponseError, "protocol", "not an HTTP answer"),
        (aiohttp.ClientOSError, "reset", "the connection broke"),
        (aiohttp.ClientError, "request", "the request failed"),
    ):
        if isinstance(e, cls):
            # A bare ClientError's text can be empty; its repr at least names it.
            detail = repr(e) if cls is aiohttp.ClientError else str(e)
            return Failed(kind, f"{phrase}: {detail}")
    raise e


async def fetch_aiohttp(session, d, url):
    """The page at `url`, redirects followed by next_hop (aiohttp follows none). --timeout
    covers every hop together: each hop gets what is left of it."""
    import asyncio

    import aiohttp

    deadline = time.monotonic() + d["timeout"]
    hops = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise asyncio.TimeoutError()
        get = session.get(
            url,
            ssl=tls_context(d),
            headers=HEADERS,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=left),
        )
        async with get as resp:
            nxt = next_hop(url, resp.status, resp.headers.get("Location"), hops)
            if nxt is None:
                if not 200 <= resp.status < 300:
                    raise status_error(resp.status)
                body = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > d["max_page_size"]:
                        raise Failed(
                            "too_large",
                            f"the body is over --max-page-size ({d['max_page_size']} bytes)",
                        )
                return bytes(body)
        url, hops = nxt, hops + 1


async def download_aiohttp(session, d, j):
    url, path = d["pages"][j % len(d["pages"])]
    try:
        page = await fetch_aiohttp(session, d, url)
    except Failed:
        raise
    except Exception as e:
        raise classify_aiohttp(e) from None
    # asyncio has no file API: the writes block the event loop, as `open` in a coroutine does.
    write_page(path, page, d["writes"])
    return len(page)


async def async_io(io, session, j):
    import asyncio

    if io["kind"] == "sleep":
        if io["blocking"]:
            time.sleep(io["seconds"])
        else:
            await asyncio.sleep(io["seconds"])
        return 0
    return await download_aiohttp(session, io, j)


async def run_one_async(i, session):
    w = WORK
    if w["kind"] in ("sleep", "download"):
        return await async_io(w, session, i)
    if w["kind"] == "mixed":
        j = io_index(i, w["io_tasks"], w["tasks"])
        if j is not None:
            return await async_io(w["io"], session, j)
        return cpu(w["cpu"], i)
    return cpu(w["cpu"], i)


def downloads(w):
    """Whether any task of the work downloads."""
    return w["kind"] == "download" or (w["kind"] == "mixed" and w["io"]["kind"] == "download")


needs_aiohttp = downloads


async def run_asyncio(plan):
    import asyncio

    session = None
    if needs_aiohttp(WORK):
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            auto_decompress=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
    limit = plan["in_flight"]
    gate = asyncio.Semaphore(limit) if limit else None
    out = Out()
    tid, pid = threading.get_native_id(), os.getpid()

    async def one(i, submit):
        if gate is not None:
            await gate.acquire()
        try:
            start = time.monotonic_ns()
            try:
                got, kind, message = await run_one_async(i, session), None, None
            except Failed as e:
                got, kind, message = 0, e.kind, e.message
            except Exception as e:
                got, kind, message = 0, "panic", f"{type(e).__name__}: {e}"
            end = time.monotonic_ns()
        finally:
            if gate is not None:
                gate.release()
        out.add([i, submit, start, end, pid, tid, got, kind, message])
        out.flush()

    t0 = time.monotonic_ns()
    say({"ready": {"t0_ns": t0, "pid": pid, "start_method": None}})
    running = []
    for i in range(plan["tasks"]):
        submit = due(plan, t0, i)
        wait = submit - time.monotonic_ns()
        if wait > 0:
            await asyncio.sleep(wait / 1e9)
        running.append(asyncio.ensure_future(one(i, submit)))
    await asyncio.gather(*running)
    if session is not None:
        await session.close()
    return [], 0


# ---------------------------------------------------------------------------------------------


def main():
    global WORK, HEADERS
    plan = json.loads(sys.stdin.readline())
    prctl_parent_death()
    if os.getppid() != plan["parent"]:
        return  # the parent died before the parent-death signal was set
    WORK, HEADERS = plan["work"], dict(plan["headers"])
    model = plan["model"]
    if model != "asyncio" and downloads(WORK):
        # urllib and what it imports (http.client, email, ssl) load now, before the ready
        # line, so no task pays for them; forked pool workers inherit them.
        import http.client  # noqa: F401
        import socket  # noqa: F401
        import urllib.error  # noqa: F401

        opener(WORK if WORK["kind"] == "download" else WORK["io"])
    if model == "asyncio":
        if needs_aiohttp(WORK):
            try:
                import aiohttp  # noqa: F401
            except ImportError as e:
                say({"error": f"py-asyncio downloads need aiohttp: {e}"})
                os._exit(3)
        import asyncio

        peaks, unmeasured = asyncio.run(run_asyncio(plan))
    elif model == "serial":
        peaks, unmeasured = run_serial(plan)
    else:
        peaks, unmeasured = run_pool(plan)
    own = peak_rss()
    note_threads()
    unmeasured += sum(1 for p in peaks if p is None) + (own is None)
    total = (own or 0) + sum(p for p in peaks if p is not None)
    end = {"peak_rss": total, "unmeasured": unmeasured, "processes": 1 + len(peaks)}
    say({"end": dict(end, threads=PEAK_THREADS[0])})


if __name__ == "__main__":
    main()
