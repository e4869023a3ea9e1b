"""`python -m bench` (or `make bench`): every part, a table on screen, the figures in bench/results.json."""

import argparse
import asyncio
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from bench import crash, engine, postgres, report, stack, store, webhook

RESULTS = Path(__file__).with_name("results.json")
PARTS = ("store", "engine", "postgres", "report", "stack", "webhook", "crash")
PEER_KILLS = 5  # the peer loses everything it acknowledged since its last 60-second write: a few kills show it


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few kills: a minute, not minutes")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, among {', '.join(PARTS)}")
    parser.add_argument("--sizes", help="stored conversations, comma-separated (default 100,10000,100000)")
    parser.add_argument("--administrators", type=int, help="concurrent administrators in the full stack (200)")
    parser.add_argument("--webhook-administrators", type=int,
                        help="concurrent administrators in the webhook part (100)")
    parser.add_argument("--kills", type=int, help="SIGKILLs in the crash part (60)")
    parser.add_argument("--report-subscriptions", type=int, help="subscriptions the report part reads (100000)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args()
    options.sizes = [int(n) for n in options.sizes.split(",")] if options.sizes else (
        [100, 1000] if options.quick else [100, 10_000, 100_000])
    options.administrators = options.administrators or (20 if options.quick else 200)
    options.webhook_administrators = options.webhook_administrators or (20 if options.quick else 100)
    options.kills = options.kills or (5 if options.quick else 60)
    options.report_subscriptions = options.report_subscriptions or (2000 if options.quick else 100_000)
    return options


async def measure(options: argparse.Namespace, scratch: Path) -> dict[str, object]:
    parts = options.parts.split(",")
    results: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    if "store" in parts:
        results["store"] = store.run(scratch / "store", options.sizes)
    if "engine" in parts:
        results["engine"] = engine.run(administrators=300)
    if "postgres" in parts:
        results["postgres"] = postgres.run(administrators=20 if options.quick else 200)
    if "report" in parts:
        results["report"] = report.run(scratch / "report", options.report_subscriptions)
    if "stack" in parts:
        results["stack"] = await stack.run(scratch / "stack", options.administrators, timeout=600)
    if "webhook" in parts:
        results["webhook"] = await webhook.run(scratch / "webhook", options.webhook_administrators, timeout=600)
    if "crash" in parts:
        results["crash"] = await crash.run(scratch / "crash", options.kills, people=30)
        results["crash_peer"] = await crash.run_peer(scratch / "crash_peer", PEER_KILLS, people=20)
    return results


def table(results: dict[str, object]) -> str:
    lines = []
    for row in results.get("store", []):  # type: ignore[union-attr]
        cost = row["load_and_save"]
        lines.append(f"store  {row['stored']:>7} conversations  load+save p50 {cost['p50_ms']:7.2f} ms  "
                     f"p99 {cost['p99_ms']:7.2f} ms  peak RSS {row['peak_rss_mb']:6.1f} MB")
    if "engine" in results:
        e = results["engine"]
        lines.append(f"engine {e['events']} events  mean {e['mean_ms']:.3f} ms  p50 {e['p50_ms']:.3f} ms  "
                     f"p99 {e['p99_ms']:.3f} ms  resident models {e['resident_models']}")
    for processes, row in results.get("postgres", {}).items():  # type: ignore[union-attr]
        lines.append(f"postgres {processes:<10} {row['events']} journey events  {row['events_per_s']:7.1f} commits/s  "
                     f"p50 {row['p50_ms']:.3f} ms  p99 {row['p99_ms']:.3f} ms")
    if "report" in results:
        r = results["report"]
        for name in ("tinydb", "postgres"):
            lines.append(f"report {name:<8} {r['subscriptions']} subscriptions  flexbot report --json "
                         f"{r[name]['seconds']:6.2f} s ({r[name]['cpu_s']} s CPU)  peak RSS {r[name]['peak_rss_mb']:6.1f} MB  "
                         f"(seeding {r[name + '_seeding_s']} s)")
    if "stack" in results:
        s = results["stack"]
        for name in ("echo_bot", "peer", "flexbot"):
            r = s[name]
            lines.append(f"stack  {name:<8} {r['updates']} updates  {r['updates_per_s']:7.1f} updates/s  "
                         f"p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms  bot CPU {r['bot_cpu_s']} s  "
                         f"bot peak RSS {r['bot_peak_rss_mb']} MB")
        lines.append(f"stack  flexbot / peer throughput {s['throughput_ratio_peer']:.2f}  "
                     f"flexbot / echo throughput {s['throughput_ratio']:.2f}  "
                     f"({s['administrators']} administrators, argon2id hash {s['argon2_hash_ms']} ms)")
    if "webhook" in results:
        w = results["webhook"]
        for name in ("echo_bot", "1_process", "2_processes", "2_processes_offered"):
            r = w[name]
            lines.append(f"webhook {name:<19} {r['updates']} updates  {r['updates_per_s']:7.1f} updates/s  "
                         f"p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms  "
                         f"bot CPU {'+'.join(map(str, r['bot_cpu_s_each']))} s  "
                         f"machine busy {r['machine_busy_cores']} of {results['machine']['cpus']} cores  "
                         f"bot peak RSS {r['bot_peak_rss_mb']} MB" +
                         (f"  not 200 {r['deliveries_not_200']}" if "deliveries_not_200" in r else ""))
        lines.append(f"webhook 2 / 1 process throughput {w['ratio_2_to_1']:.2f}  "
                     f"2 processes / echo throughput {w['ratio_2_to_echo']:.2f}  "
                     f"p99 at {w['2_processes_offered']['offered_per_s']:.0f} updates/s offered "
                     f"{w['2_processes_offered']['p99_ms']:.1f} ms  "
                     f"({w['administrators']} administrators, argon2id hash {w['argon2_hash_ms']} ms)")
    if "crash" in results:
        lines.append("crash  " + "  ".join(f"{key} {value}" for key, value in results["crash"].items()))
        lines.append("crash  peer  " + "  ".join(f"{key} {value}" for key, value in results["crash_peer"].items()))
    return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # connections cut by the kills, on purpose
    options = arguments()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flexbot-bench-") as scratch:
        results = asyncio.run(measure(options, Path(scratch)))
    results["seconds"] = round(time.perf_counter() - started, 1)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"written to {options.output} in {results['seconds']} s")


if __name__ == "__main__":
    main()
