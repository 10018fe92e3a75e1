"""Reading wrk's output and printing a load beside its same-run baseline."""
from bench.bench_dashboard import Load, latency_ms, load_table
from bench.cpu import CpuMeter

OUTPUT = """Running 5s test @ http://127.0.0.1:46553/contacts/
  Latency Distribution
     50%  532.21ms
     75%  581.19ms
     90%  630.61us
     99%    1.20s
  190 requests in 5.07s, 3.18MB read
Requests/sec:     37.48
"""


def test_latency_distribution_in_milliseconds():
    assert latency_ms(OUTPUT) == {50: 532.21, 75: 581.19, 90: 0.63061, 99: 1200.0}


def _load(requests: int, rate: float, web: float, database: float | None) -> Load:
    meter = CpuMeter()
    meter.used = {"web": web, "database": database}
    return Load(requests=requests, rate=rate, errors=0, cpu=meter, output="",
                latency={50: 10.0 * web, 99: 20.0 * web})


def test_load_table_prints_the_baseline_and_the_ratios():
    table = load_table("page", _load(100, 20.0, 2.0, None), 100, _load(400, 80.0, 1.0, 0.4))

    rows = table.splitlines()
    assert rows[2].startswith("| page | 20 | 0 | 20.00 ms | 40.00 ms | 20.00 ms | not measured |")
    assert rows[3].startswith("| trivial page (/healthz), same run | 80 | 0 | 10.00 ms | 20.00 ms "
                              "| 2.50 ms | 1.00 ms |")
    # requests/s trivial / page 4x; latency and web CPU/request page / trivial 2x, 8x; no
    # ratio where the page's database CPU was not measured.
    assert rows[4].endswith("| 4.0x | | 2.0x | 2.0x | 8.0x | - |")
