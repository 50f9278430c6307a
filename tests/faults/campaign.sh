#!/usr/bin/env bash
# The fault campaign: the scenarios of tests/tests/faults.rs (S3 503 SlowDown and DynamoDB throttling
# through a fault-injecting proxy, AWS unreachable mid-batch, MLflow SIGKILLed and restarted
# mid-batch, a function cut off between the verdict's record and its notice), each with its
# count-in = count-out line, against the local stack this script starts. Writes the lines into the
# "Faults" table of docs/reliability.md.
#
#   bash tests/faults/campaign.sh             run every scenario, record the table
#   bash tests/faults/campaign.sh --dry-run   run them, print the table, leave the doc alone
#
# The test command runs the same scenarios (as tests); this script is what keeps the doc's figures.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
record=1
case "${1:-}" in
  --dry-run) record=0 ;;
  -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "faults campaign: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac
source infra/localstack/stack.sh
stack_start >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "faults campaign: running tests/tests/faults.rs against the local stack" >&2
status=0
cargo nextest run -p deltaone-system-tests --test faults --run-ignored all --no-capture --no-fail-fast 2>&1 | tee "$out" >&2 || status=$?
python3 - "$out" "$record" "$(date -u +%Y-%m-%d)" "$(git rev-parse --short HEAD)" <<'PY'
import re, sys
out, record, day, rev = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4]
lines = [l.strip() for l in open(out, errors="replace") if l.startswith("count-in = count-out |")]
rows = ["| scenario | in | handled | verdicts | notices | dead letters | faults | date | reproduce |",
        "|---|---:|---|---:|---|---:|---|---|---|"]
for line in lines:
    parts = [p.strip() for p in line.split("|")[1:]]
    scenario, sent, handled, verdicts, notices, parked, faults = parts[:7]
    rows.append(f"| {scenario} | {sent.removeprefix('in ')} | {handled.removeprefix('handled ')} | "
                f"{verdicts.removeprefix('verdicts ')} | {notices.removeprefix('notices ')} | "
                f"{parked.removeprefix('dead letters ')} | {faults} | {day} ({rev}) | `bash tests/faults/campaign.sh` |")
table = "\n".join(rows)
print(table)
if not lines:
    sys.exit("faults campaign: no count-in = count-out line was printed")
if record:
    path = "docs/reliability.md"
    text = open(path).read()
    begin, end = "<!-- faults-table:begin -->", "<!-- faults-table:end -->"
    if begin not in text or end not in text:
        sys.exit(f"faults campaign: {path} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(path, "w").write(f"{head}{begin}\n{table}\n{end}{tail}")
    print(f"faults campaign: wrote {len(lines)} rows into {path}", file=sys.stderr)
PY
exit "$status"
