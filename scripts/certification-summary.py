#!/usr/bin/env python3
"""Summarise the reports of scripts/certify-real-servers.sh as Markdown.

Reads target/certify/<server>.json (or the directory given) and prints the table of
counts and, per server, every failing or warning check once with the versions it
failed at and the first words of its evidence. docs/certification.md is made from this
output plus the reviewed classification of the findings.

    python3 scripts/certification-summary.py [DIR]
"""
import json
import pathlib
import sys


def main() -> int:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/certify")
    reports = sorted(p for p in folder.glob("*.json"))
    if not reports:
        print(f"no reports in {folder}", file=sys.stderr)
        return 2
    print("| server | transport | pass | fail | warn | skip |")
    print("| --- | --- | --- | --- | --- | --- |")
    loaded = []
    for path in reports:
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            print(f"| {path.stem} | | unreadable report: {e} | | | |")
            continue
        s = report["summary"]
        transport = report["results"][0]["transport"] if report["results"] else "?"
        print(f"| {path.stem} | {transport} | {s['pass']} | {s['fail']} | {s['warn']} | {s['skip']} |")
        loaded.append((path.stem, report))
    print()
    print("## Findings per server")
    for name, report in loaded:
        print()
        print(f"### {name}")
        print()
        grouped = {}
        for r in report["results"]:
            if r["status"] in ("fail", "warn"):
                grouped.setdefault((r["status"], r["id"]), []).append(r)
        if not grouped:
            print("No failures or warnings.")
        for (status, check), rs in grouped.items():
            versions = ",".join(r["spec_version"] for r in rs)
            evidence = rs[0]["message"].replace("\n", " ")[:160]
            print(f"- **{status}** `{check}` ({versions}): {evidence} [spec]({rs[0]['spec']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
