"""`aisci list [DIR]`: every study under a folder (default: here), one line each: its phases,
what waits for a person, cost so far, the best node and the review's verdict."""

from __future__ import annotations

SYMBOLS = {"done": "✓", "out of date": "~", "not run": "·", "running": "▶", "waiting": "?", "failed": "✗"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("list", help="list the studies under a folder, with their phases and cost")
    parser.add_argument("folder", nargs="?", default=".")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from aisci.api import list_studies

    cards = list_studies(args.folder)
    if not cards:
        print(f"no studies under {args.folder} (a study is a folder with an aisci.toml; create one with aisci init)")
        return 0
    for card in cards:
        if "error" in card:
            print(f"{card['path']}: {card['error']}")
            continue
        phases = " ".join(f"{SYMBOLS[p['state']]}{p['name']}" for p in card["phases"])
        parts = [phases]
        if card["running"]:
            parts.append("running")
        if card["waiting"]:
            parts.append("waiting for you: " + ", ".join(card["waiting"]))
        cost = card["cost"]
        parts.append(f"{cost['tokens']:,} tokens, ${cost['cost_usd']:.4f}")
        best = card["best"]
        if best and isinstance(best["value"], (int, float)):
            parts.append(f"best {best['id']} ({best['metric']} = {best['value']:.4g})")
        if card["review"]:
            parts.append(f"review: {card['review']['decision']}")
        print(f"{card['path']}: " + " — ".join(parts))
    print("legend: " + ", ".join(f"{s} {state}" for state, s in SYMBOLS.items()))
    return 0
