"""What the benchmarks of python/bench share: where results go, and the
header of every result (date, machine, load)."""
import datetime
import json
import os
import platform

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_path(name):
    """bench/results/<name>.json of the repository."""
    return os.path.join(ROOT, "bench", "results", name + ".json")


def header(bench):
    return {"bench": bench,
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores (shared: other jobs may run)"}


def write(path, result):
    """Writes result as indented JSON to path (directories made) and says so."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote", path)
