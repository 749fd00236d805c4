"""tools/benchmark.py serve against the real server: the report's fields, not its speed."""

import json

from conftest import run_tool
from test_serve_api import exported_model


def test_serve_benchmark_drives_the_real_server(tmp_path_factory, mnist_root, tmp_path):
    prefix = exported_model(tmp_path_factory, mnist_root)
    proc = run_tool("benchmark.py", "serve", "--model", prefix, "--requests", "8",
                    "--warmup", "2", "--json", cwd=tmp_path, timeout=300)
    report = json.loads(proc.stdout)
    assert report["requests"] == 8 and report["records_committed"] == 10
    assert 0 < report["p50_ms"] <= report["p90_ms"] <= report["p99_ms"]
    assert set(report["server_median_ms"]) == {"decode", "preprocess", "model", "record"}
    assert report["canvas"].startswith("280x280 PNG")
    assert report["target_met"] == (report["p50_ms"] <= 10)
    assert len(report["machine"]["load_average"]) == 3
    assert not list(tmp_path.iterdir()), "the benchmark leaves no database behind"


def test_serve_benchmark_rejects_nonsense(tmp_path):
    proc = run_tool("benchmark.py", "serve", "--model", "x", "--requests", "0",
                    cwd=tmp_path, check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("error: --requests must be")
