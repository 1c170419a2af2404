"""`make bench`: every benchmark, one after the other (never part of `make test`)."""

from bench import (
    events_bench,
    export_bench,
    history_bench,
    hook_size,
    login_flood,
    patch_compare,
    peer_compare,
    pocketbase_events,
    save_bytes_bench,
    save_throughput,
    typing_bench,
    typing_latency,
)


def run() -> None:
    for name, benchmark in (
        ("typing participant and hook size", typing_bench.main),
        ("the hook's size: core + adapter, min+gzip", hook_size.main),
        ("typing latency in a field holding 2 MiB", typing_latency.main),
        ("bytes per keystroke-save, full save and merge patch", save_bytes_bench.main),
        ("export --all (1,000 and 10,000 users)", export_bench.main),
        ("save throughput", save_throughput.main),
        ("sign-in flood: worker memory and save latency", login_flood.main),
        ("the cost of step history on a save", history_bench.main),
        ("save throughput beside the original stack", peer_compare.main),
        ("the hook's merge-patch saves beside full saves", patch_compare.main),
        ("live events: save → event latency, throughput with streams, memory", events_bench.main),
        ("live events beside PocketBase's realtime subscriptions", pocketbase_events.main),
    ):
        print(f"\n## {name}\n", flush=True)
        benchmark()


run()
