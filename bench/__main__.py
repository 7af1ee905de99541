"""`python -m bench` (= `make bench`): fictional listings at 10k and 100k, five scenarios timed
through the app (Flask test client, then a real gunicorn server), bare-SQLite floors for
scenarios 1 and 2, load time and database size; results to bench/out/results.json and the
table in bench/README.md.

Options: --sizes 10000,100000  --rebuild  --iterations N  --no-server  --no-readme
The generated databases are kept in bench/out/ (git-ignored) and reused unless --rebuild.
"""

import argparse
import http.client
import json
import math
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from geopy.distance import geodesic

from bench.generate import build, import_time
from directory import create_app, nearby, search
from directory.db import connect

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
PROJECT = ROOT.parent

SEARCH_ARGS = {"q": "counselling", "region": "0700000000"}  # ranked text + region filter
NEAR_PLACES = ("Palo, Leyte", "Quezon City")  # a town, and the densest city
BUDGET_S = 30.0  # a slow scenario stops after this long (with at least MIN_SAMPLES samples)
MIN_SAMPLES = 20


def scenarios(db_path: Path) -> dict[str, list[str]]:
    """Each scenario's request paths (several, rotated, so no one cached answer is timed)."""
    db = connect(str(db_path))
    ids = [
        r[0]
        for r in db.execute(
            "select service_id from search_doc where rowid % 97 = 0 order by rowid limit 50"
        )
    ]
    db.conn.close()
    return {
        "1 search page (q + region, facets)": [f"/search?{urlencode(SEARCH_ARGS)}"],
        "1 api search (q + region, page + total)": [f"/api/services?{urlencode(SEARCH_ARGS)}"],
        "2 nearest 20 ≤ 50 km, Palo (api)": [
            f"/api/services?{urlencode({'near': NEAR_PLACES[0], 'radius_km': 50})}"
        ],
        "2 nearest 20 ≤ 50 km, Quezon City (api)": [
            f"/api/services?{urlencode({'near': NEAR_PLACES[1], 'radius_km': 50})}"
        ],
        "3 /hotlines?region=VIII": ["/hotlines?region=0800000000"],
        "4 service detail page": [f"/services/{i}" for i in ids],
        "5 /api/services first page": ["/api/services"],
    }


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "n": len(ordered),
    }


def time_test_client(db_path: Path, paths: list[str], iterations: int) -> dict:
    app = create_app({"TESTING": False, "DATABASE": str(db_path)})
    client = app.test_client()
    for path in paths[:5]:  # warm-up (and a check that it answers)
        response = client.get(path)
        if response.status_code != 200:
            return {"error": f"{response.status_code}: {response.data[:200].decode()}"}
    samples, failures = [], 0
    budget = time.perf_counter() + BUDGET_S
    for i in range(iterations):
        path = paths[i % len(paths)]
        t = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - t)
        failures += response.status_code != 200
        response.close()
        if i >= MIN_SAMPLES and t > budget:
            break
    return {**_stats(samples), "failures": failures}


# --------------------------------------------------------------------------- floors


def floor_search(db_path: Path, iterations: int) -> dict:
    """Scenario 1 in bare SQLite: the same count, ranked first page and facet counts."""
    conn = sqlite3.connect(str(db_path))
    from sqlite_utils import Database

    db = Database(conn)
    query = search.parse_query(db, SEARCH_ARGS)
    clause, _, params = search.search_sql(query)
    # the statement search() runs, less the app: one FTS5 pass over the hits with bm25 and
    # the narrow facet ids, the page sorted from them, the facet groups (total = their sum)
    keys = search.narrow_order(search._order_keys(query), clause)
    assert keys is not None, "scenario 1 should run on the narrow tables"
    statement = search.narrow_sql(keys, facets=True)
    params = {**params, "limit": 20, "offset": 0, "last": 19}
    samples = []
    for _ in range(iterations):
        t = time.perf_counter()
        conn.execute(statement, params).fetchall()
        samples.append(time.perf_counter() - t)
    conn.close()
    return _stats(samples)


def floor_api_search(db_path: Path, iterations: int) -> dict:
    """Scenario 1 through the API in bare SQLite: the ranked first page and the total."""
    conn = sqlite3.connect(str(db_path))
    from sqlite_utils import Database

    query = search.parse_query(Database(conn), SEARCH_ARGS)
    clause, _, params = search.search_sql(query)
    keys = search.narrow_order(search._order_keys(query), clause)
    assert keys is not None, "scenario 1 should run on the narrow tables"
    statement = search.narrow_sql(keys, facets=False)  # the page and the total
    params = {**params, "limit": 20, "offset": 0, "last": 19}
    samples = []
    for _ in range(iterations):
        t = time.perf_counter()
        conn.execute(statement, params).fetchall()
        samples.append(time.perf_counter() - t)
    conn.close()
    return _stats(samples)


def floor_nearest(db_path: Path, place: str, iterations: int) -> dict:
    """Scenario 2 in bare SQLite: one R*Tree box of 50 km, flat-distance order, 20 rows,
    geodesic for those 20, and the count inside the circle (about the same answer, no app:
    no band of geodesic checks at the circle's edge)."""
    conn = sqlite3.connect(str(db_path))
    from sqlite_utils import Database

    found = nearby.resolve_place(Database(conn), place)
    lat, lon = found.lat, found.lon
    ky, kx, _ = nearby._scales(lat)
    dlat, dlon = 50.5 / ky, 50.5 / kx
    box = [lat - dlat, lat + dlat, lon - dlon, lon + dlon]
    dy, dx = f"((d.lat - {lat}) * {ky})", f"((d.lon - {lon}) * {kx})"
    d2 = f"{dy} * {dy} + {dx} * {dx}"
    window = (  # (this form lets SQLite look rows up by rowid; a join form runs ~2× slower)
        "from search_doc d where d.rowid in (select id from search_point where min_lat >= ? "
        "and max_lat <= ? and min_lon >= ? and max_lon <= ?) and d.victim_facing = 1"
    )
    samples = []
    for _ in range(iterations):
        t = time.perf_counter()
        rows = conn.execute(
            f"select d.service_id, d.lat, d.lon, {d2} as a2 {window} and a2 <= 2500 "
            "order by a2 limit 20",
            box,
        ).fetchall()
        [geodesic((lat, lon), (r[1], r[2])).km for r in rows]
        # the count as the app takes it: the R*Tree alone (32-bit boxes), then the few
        # that are not victim-facing taken away
        tree = d2.replace("d.lat", "min_lat").replace("d.lon", "min_lon")
        every = conn.execute(
            "select count(*) from search_point where min_lat >= ? and max_lat <= ? and "
            f"min_lon >= ? and max_lon <= ? and {tree} <= 2500",
            box,
        ).fetchone()[0]
        others = conn.execute(
            "select count(*) from search_doc d where d.victim_facing = 0 and d.lat between ? "
            f"and ? and d.lon between ? and ? and {d2} <= 2500",
            box,
        ).fetchone()[0]
        assert every >= others
        samples.append(time.perf_counter() - t)
    conn.close()
    return _stats(samples)


# --------------------------------------------------------------------------- real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`directory serve` (gunicorn, 2 workers) on the bench database."""

    def __init__(self, db_path: Path, workers: int = 2):
        self.port = _free_port()
        env = {**os.environ, "DIRECTORY_DATABASE": str(db_path)}
        exe = Path(sys.executable).with_name("directory")
        self.process = subprocess.Popen(
            [str(exe), "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.get("/api/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("the server did not start")

    def get(self, path: str, conn: http.client.HTTPConnection | None = None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if own:
            conn.close()
        return response.status, body

    def pss_mb(self) -> float:
        """Proportional set size of the master and its workers."""
        total = 0
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return round(total / 1024, 1)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def time_server(server: Server, paths: list[str], iterations: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for path in paths[:5]:
        status, body = server.get(path, conn)
        if status != 200:
            conn.close()
            return {"error": f"{status}: {body[:200].decode()}"}
    samples, failures = [], 0
    budget = time.perf_counter() + BUDGET_S
    for i in range(iterations):
        path = paths[i % len(paths)]
        t = time.perf_counter()
        status, _ = server.get(path, conn)
        samples.append(time.perf_counter() - t)
        failures += status != 200
        if i >= MIN_SAMPLES and t > budget:
            break
    conn.close()
    return {**_stats(samples), "failures": failures}


def throughput(server: Server, path: str, clients: int = 8, seconds: float = 10.0) -> float:
    """Requests per second with `clients` concurrent keep-alive clients."""
    done = [0] * clients
    stop = time.time() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while time.time() < stop:
            status, _ = server.get(path, conn)
            if status == 200:
                done[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return round(sum(done) / (time.time() - start), 1)


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError):
        pass
    return (
        f"{os.cpu_count()} CPU ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def run(sizes: list[int], iterations: int, rebuild: bool, server: bool, only: str = "") -> dict:
    OUT.mkdir(exist_ok=True)
    results: dict = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "load_average_at_start": os.getloadavg(),
        "sizes": {},
    }
    for size in sizes:
        db_path = OUT / f"bench-{size}.sqlite"
        load_file = OUT / f"bench-{size}.load.json"
        if rebuild or not db_path.exists() or not load_file.exists():
            print(f"building {size} fictional listings …", flush=True)
            load = build(db_path, size)
            load_file.write_text(json.dumps(load))
        load = json.loads(load_file.read_text())
        if "import" not in load and not only:
            print(f"timing `directory load` of {size} listings …", flush=True)
            load["import"] = import_time(db_path)
            load_file.write_text(json.dumps(load))
            print(size, "import", load["import"], flush=True)
        # bring an older bench database up to the current schema (and index)
        create_app({"TESTING": False, "DATABASE": str(db_path)})
        size_mb = (
            sum(
                Path(f"{db_path}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{db_path}{s}").exists()
            )
            / 1e6
        )
        entry = {"load": load, "db_mb": round(size_mb, 1), "test_client": {}, "server": {}}
        paths = {k: v for k, v in scenarios(db_path).items() if only in k}
        for name, scenario_paths in paths.items():
            entry["test_client"][name] = time_test_client(db_path, scenario_paths, iterations)
            print(size, "test client", name, entry["test_client"][name], flush=True)
        floors = {
            "1 search page (q + region, facets)": (floor_search, ()),
            "1 api search (q + region, page + total)": (floor_api_search, ()),
            "2 nearest 20 ≤ 50 km, Palo (api)": (floor_nearest, (NEAR_PLACES[0],)),
            "2 nearest 20 ≤ 50 km, Quezon City (api)": (floor_nearest, (NEAR_PLACES[1],)),
        }
        entry["floors"] = {
            name: floor(db_path, *extra, iterations)
            for name, (floor, extra) in floors.items()
            if name in paths
        }
        print(size, "floors", entry["floors"], flush=True)
        if server:
            srv = Server(db_path)
            try:
                for name, scenario_paths in paths.items():
                    entry["server"][name] = time_server(srv, scenario_paths, iterations)
                    print(size, "server", name, entry["server"][name], flush=True)
                first = paths.get("1 search page (q + region, facets)")
                if first:
                    entry["server_rps_8_clients_scenario_1"] = throughput(srv, first[0])
                entry["server_pss_mb"] = srv.pss_mb()
                print(size, "req/s", entry.get("server_rps_8_clients_scenario_1"), flush=True)
            finally:
                srv.stop()
        entry["load_average_after"] = os.getloadavg()
        results["sizes"][str(size)] = entry
        (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return results


def table(results: dict) -> str:
    sizes = list(results["sizes"])
    names = list(results["sizes"][sizes[0]]["test_client"])
    head = "| scenario | " + " | ".join(
        f"{n // 1000 if (n := int(s)) >= 1000 else n}k {kind}"
        for s in sizes
        for kind in ("test client", "server", "floor", "server ÷ floor")
    )
    lines = [head + " |", "|" + "---|" * (1 + 4 * len(sizes))]
    for name in names:
        cells = []
        for s in sizes:
            e = results["sizes"][s]
            tc, sv, fl = e["test_client"].get(name), e["server"].get(name), e["floors"].get(name)

            def fmt(x):
                if not x:
                    return "–"
                if "error" in x:
                    return f"failed ({x['error'][:3]})"
                failed = f" ({x['failures']} failed)" if x.get("failures") else ""
                return f"{x['median_ms']} / {x['p95_ms']}{failed}"

            ratio = (
                f"{sv['median_ms'] / fl['median_ms']:.1f}× / {sv['p95_ms'] / fl['p95_ms']:.1f}×"
                if sv and fl and "error" not in sv
                else "–"
            )
            cells += [fmt(tc), fmt(sv), fmt(fl), ratio]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for s in sizes:
        e = results["sizes"][s]
        busy = e.get("load_average_after")
        lines.append(
            (f"- load average after the {int(s):,} run: {busy[0]:.1f} (1 min)\n" if busy else "")
            + f"- {int(s):,} listings: load (save_service + search index) "
            f"{e['load']['load_s']:.0f} s (save {e['load']['save_s']:.0f} s, index "
            f"{e['load']['index_s']:.0f} s); database {e['db_mb']} MB"
            + (
                f"; 8 concurrent clients on scenario 1 (HTML): "
                f"{e['server_rps_8_clients_scenario_1']} req/s"
                if "server_rps_8_clients_scenario_1" in e
                else ""
            )
            + (f"; server PSS {e['server_pss_mb']} MB" if "server_pss_mb" in e else "")
            + (
                f"; `directory load` of all {e['load']['import']['services']:,} services as "
                f"HSDS JSON into a fresh database: {e['load']['import']['import_s']} s, peak RSS "
                f"{e['load']['import']['peak_rss_mb']} MB"
                if "import_s" in e["load"].get("import", {})
                else ""
            )
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-server", action="store_true")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    args = parser.parse_args()
    random.seed(1)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = run(sizes, args.iterations, args.rebuild, not args.no_server, args.only)
    print()
    print(table(results))
    if not args.no_readme:
        readme = ROOT / "README.md"
        text = readme.read_text() if readme.exists() else ""
        start, end = "<!-- results -->", "<!-- /results -->"
        block = (
            f"{start}\nMachine: {results['machine']}. Run: {results['started']} UTC, "
            f"load average at start {results['load_average_at_start'][0]:.1f}. "
            "Cells: median / p95 in ms.\n\n"
            f"{table(results)}\n{end}"
        )
        if start in text and end in text:
            text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
        else:
            text += "\n" + block + "\n"
        readme.write_text(text)


if __name__ == "__main__":
    main()
