#!/usr/bin/env bash
# End-to-end tests of the cairn tool: outputs, exit statuses and error messages.
# Usage: run_cli_tests.sh PATH_TO_CAIRN
set -uo pipefail
cairn=$(readlink -f "$1")
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect STATUS SUBSTRING_OF_OUTPUT -- command...   (stdout and stderr together)
expect() {
  local status=$1 needle=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  [[ $rc == "$status" ]] || fail "'$*' exited $rc, expected $status; output: ${out:0:400}"
  [[ $out == *"$needle"* ]] || fail "'$*' output lacks '$needle'; output: ${out:0:400}"
}

# --- info: closed forms, exact for huge T
expect 0 '{"schedule":"revolve","steps":100,"slots":3,"repetitions":7,"forward_steps":490,"recomputation_factor":5.9,"stores":28,"restores":99,"reverses":100}' -- \
  "$cairn" info --steps 100 --slots 3 --format json
expect 0 'repetitions r          7' -- "$cairn" info --steps 100 --slots 3
expect 0 'forward steps t(T,c)   490' -- "$cairn" info -T 100 -c 3
expect 0 '"forward_steps":105,"recomputation_factor":3.1,"stores":28,"restores":49' -- "$cairn" info -T 50 -c 7 -f json
expect 0 '"forward_steps":3636,' -- "$cairn" info -T 1000 -c 10 -f json
expect 0 '"repetitions":8,"forward_steps":6815960,' -- "$cairn" info -T 1e6 -c 20 -f json
expect 0 '"repetitions":24,"forward_steps":22914070016840160,' -- "$cairn" info -T 1e15 -c 30 -f json
expect 0 '"repetitions":1,"forward_steps":9223372036854775806,' -- \
  "$cairn" info -T 9223372036854775807 -c 9223372036854775807 -f json

# --- schedule: the JSON-lines format of DESIGN.md, checked by the independent checker
"$cairn" schedule --steps 10 --slots 3 > "$work/ten.jsonl" || fail "schedule T=10 c=3"
head -n 3 "$work/ten.jsonl" > "$work/head.jsonl"
cat > "$work/expected_head.jsonl" <<'JSON'
{"op":"store","slot":0,"step":0,"level":"ram"}
{"op":"advance","from":0,"to":4}
{"op":"store","slot":1,"step":4,"level":"ram"}
JSON
diff -u "$work/expected_head.jsonl" "$work/head.jsonl" || fail "first actions of T=10 c=3"
[[ $(tail -n 1 "$work/ten.jsonl") == '{"op":"end"}' ]] || fail "stream must finish with end"
"$cairn" schedule -T 100 -c 3 > "$work/hundred.jsonl" || fail "schedule T=100 c=3"
expect 0 '"forward_steps": 490' -- bash -c "'$cairn' check -T 100 -c 3 < '$work/hundred.jsonl'"
expect 0 '{"legal":true,"actions":' -- bash -c "'$cairn' check -T 100 -c 3 -f json < '$work/hundred.jsonl'"
expect 0 '"max_advances_per_step":7' -- bash -c "'$cairn' check -T 100 -c 3 -f json < '$work/hundred.jsonl'"
expect 0 '# revolve schedule: T = 100 steps, c = 3 slots, r = 7, t = 490 forward steps' -- \
  "$cairn" schedule -T 100 -c 3 --format text
expect 0 'reverse  step 99  (adjoint: lambda_100 -> lambda_99)' -- "$cairn" schedule -T 100 -c 3 -f text
expect 0 '"legal":true,"actions":3657799,"advances":999999,"forward_steps":6815960,"max_advances_per_step":8,"reverses":1000000,"stores":657800,"restores":999999,"peak_slots":20' -- \
  "$cairn" schedule -T 1e6 -c 20 -f summary
expect 0 '"ns_per_action":' -- "$cairn" schedule -T 1000 -c 5 -f summary
"$cairn" schedule -T 50 --schedule store-all > "$work/all.jsonl" || fail "store-all schedule"
expect 0 'legal' -- bash -c "'$cairn' check -T 50 -c 49 < '$work/all.jsonl'"
# The same stream with too few slots is refused by the checker.
expect 1 'illegal: action 96' -- bash -c "'$cairn' check -T 50 -c 48 < '$work/all.jsonl'"

# --- check: illegal streams exit 1 with the first bad action and the reason
printf '%s\n' '{"op":"store","slot":0,"step":0,"level":"ram"}' '{"op":"advance","from":1,"to":2}' > "$work/bad.jsonl"
expect 1 'illegal: action 1 ({"op":"advance","from":1,"to":2}): the working state is x_0, not x_1' -- \
  bash -c "'$cairn' check -T 3 -c 2 < '$work/bad.jsonl'"
head -n -1 "$work/hundred.jsonl" > "$work/no_end.jsonl"
expect 1 'ended before its end action' -- bash -c "'$cairn' check -T 100 -c 3 < '$work/no_end.jsonl'"
expect 0 'legal' -- bash -c "'$cairn' check -T 100 -c 3 --disk-slots 2 < '$work/hundred.jsonl'"
printf '%s\n' '{"op":"store","slot":0,"step":0,"level":"disk"}' '{"op":"reverse","step":0}' \
  '{"op":"end"}' > "$work/disk.jsonl"
expect 0 '"disk": {
      "stores": 1,' -- bash -c "'$cairn' check -T 1 -c 1 --disk-slots 1 < '$work/disk.jsonl'"
expect 1 'level 1 does not exist' -- bash -c "'$cairn' check -T 1 -c 1 < '$work/disk.jsonl'"

# --- multilevel: RAM + disk with costs; the stream goes to stdout, its cost to stderr
"$cairn" schedule -T 10 -c 1 --disk-slots 2 --write-cost 2 --read-cost 1 > "$work/ml.jsonl" 2> "$work/ml.err" ||
  fail "multilevel schedule"
[[ $(head -n 1 "$work/ml.jsonl") == '{"op":"store","slot":0,"step":0,"level":"disk"}' ]] ||
  fail "multilevel stream must start by storing x_0 on disk; got $(head -n 1 "$work/ml.jsonl")"
grep -q 'cost 24 ' "$work/ml.err" || fail "multilevel cost on stderr: $(cat "$work/ml.err")"
expect 0 '"levels":{"ram":{"stores":3,"restores":6,"frees":3,"peak_slots":1},"disk":{"stores":2,"restores":3,"frees":2,"peak_slots":2}},"cost":24.0}' -- \
  bash -c "'$cairn' check -T 10 -c 1 --disk-slots 2 --write-cost 2 --read-cost 1 -f json < '$work/ml.jsonl'"
expect 1 'illegal' -- bash -c "'$cairn' check -T 10 -c 1 --disk-slots 1 < '$work/ml.jsonl'"
# --- mixed: restart states or adjoint data per unit (Maddison), replayed by check
expect 0 '"forward_evaluations":3921,"peak_units":10,"adjoint_units":1,"cost":3921.0,"optimal_cost":3921.0,"revolve_forward_evaluations":4636' -- \
  "$cairn" schedule -T 1000 -c 10 --schedule mixed -f summary
"$cairn" schedule -T 100 -c 12 --schedule mixed --adjoint-units 4 > "$work/mx.jsonl" 2> /dev/null || fail "mixed schedule"
grep -q '"op":"store_adjoint"' "$work/mx.jsonl" || fail "mixed stream without store_adjoint"
expect 0 'legal' -- bash -c "'$cairn' check -T 100 -c 12 --adjoint-units 4 < '$work/mx.jsonl'"
expect 1 'illegal: action' -- bash -c "'$cairn' check -T 100 -c 11 --adjoint-units 4 < '$work/mx.jsonl'"
expect 2 'no --disk-slots' -- "$cairn" schedule -T 100 -c 2 --schedule mixed --disk-slots 3
# --- two-level: the same optimum as multilevel, for long runs too
expect 0 '"schedule":"two-level","steps":10000,"slots":10,"disk_slots":"unlimited","legal":true,' -- \
  "$cairn" schedule -T 1e4 -c 10 --schedule two-level --disk-slots unlimited --write-cost 2 --read-cost 2 --backward-cost 1 -f summary
expect 0 '"cost":32698.0,"optimal_cost":32698.0' -- \
  "$cairn" schedule -T 1e4 -c 10 --schedule two-level --disk-slots unlimited --write-cost 2 --read-cost 2 --backward-cost 1 -f summary
expect 0 '"cost":3272698.0,"optimal_cost":3272698.0' -- \
  "$cairn" schedule -T 1e6 -c 10 --schedule two-level --disk-slots unlimited --write-cost 2 --read-cost 2 --backward-cost 1 -f summary
"$cairn" schedule -T 10 -c 1 --schedule two-level --disk-slots 2 --write-cost 2 --read-cost 1 > "$work/tl.jsonl" 2> "$work/tl.err" ||
  fail "two-level schedule"
grep -q 'two-level schedule: T = 10 steps, c = 1 RAM slots, 2 disk slots (write 2, read 1), forward 1, backward 0, cost 24 ' "$work/tl.err" ||
  fail "two-level cost on stderr: $(cat "$work/tl.err")"
expect 0 '"cost":24.0}' -- \
  bash -c "'$cairn' check -T 10 -c 1 --disk-slots 2 --write-cost 2 --read-cost 1 -f json < '$work/tl.jsonl'"
expect 2 '--schedule two-level needs --disk-slots' -- "$cairn" schedule -T 100 -c 2 --schedule two-level
expect 0 '"disk_slots":"unlimited","legal":true,' -- \
  "$cairn" schedule -T 1e4 -c 10 --disk-slots unlimited --write-cost 2 --read-cost 2 --backward-cost 1 -f summary
expect 0 '"cost":32698.0,"optimal_cost":32698.0' -- \
  "$cairn" schedule -T 1e4 -c 10 --disk-slots unlimited --write-cost 2 --read-cost 2 --backward-cost 1 -f summary
# A free disk is Revolve with c + D slots: t(100, 3) = 490.
expect 0 '"forward_steps":490,' -- "$cairn" schedule -T 100 -c 1 --disk-slots 2 -f summary
expect 0 'cost 24 (forward' -- "$cairn" schedule -T 10 -c 1 --disk-slots 2 --write-cost 2 --read-cost 1 -f text
expect 2 'at least one slot' -- "$cairn" schedule -T 10 -c 0 --disk-slots 0
expect 2 'do not apply to --schedule store-all' -- "$cairn" schedule -T 10 --schedule store-all --disk-slots 2
expect 2 '--write-cost' -- "$cairn" schedule -T 10 -c 2 --disk-slots 2 --write-cost -1
expect 2 "--disk-slots: 'lots'" -- "$cairn" schedule -T 10 -c 2 --disk-slots lots

# --- online: T learnt at the end; legal, and the offline repetition bound of the same run
"$cairn" schedule --online -T 10 -c 3 > "$work/online.jsonl" || fail "online schedule"
[[ $(head -n 2 "$work/online.jsonl" | tail -n 1) == '{"op":"advance","from":0,"to":1}' ]] ||
  fail "an online stream advances one step at a time forward"
[[ $(tail -n 1 "$work/online.jsonl") == '{"op":"end"}' ]] || fail "online stream must finish with end"
expect 0 '"max_advances_per_step":3,' -- bash -c "'$cairn' check -T 10 -c 3 -f json < '$work/online.jsonl'"
expect 0 '"max_advances_per_step":8,' -- "$cairn" schedule --online -T 1e6 -c 20 -f summary
expect 0 '"offline_repetitions":8,"offline_forward_steps":6815968' -- \
  "$cairn" schedule --online -T 1e6 -c 20 -f summary
expect 0 'r(T+1, c) = 3, t(T+1, c) = 18)' -- "$cairn" schedule --online -T 10 -c 3 -f text
expect 2 '--online takes --steps, --slots and optionally a disk level' -- "$cairn" schedule --online -T 10 -c 3 --schedule multilevel
# --- online over RAM and disk: legal under `cairn check` with the same levels, priced
"$cairn" schedule --online -T 100 -c 3 --disk-slots 2 --write-cost 1 --read-cost 1 > "$work/online_disk.jsonl" ||
  fail "online multilevel schedule"
grep -q '"level":"disk"' "$work/online_disk.jsonl" || fail "the online multilevel stream uses the disk"
expect 0 '"legal":true' -- bash -c "'$cairn' check -T 100 -c 3 --disk-slots 2 -f json < '$work/online_disk.jsonl'"
expect 0 '"schedule":"online-multilevel","steps":100,"slots":3,"disk_slots":2,"legal":true' -- \
  "$cairn" schedule --online -T 100 -c 3 --disk-slots 2 --write-cost 1 --read-cost 1 -f summary
expect 0 '"disk_slots":"unlimited","legal":true' -- \
  "$cairn" schedule --online -T 1e5 -c 0 --disk-slots unlimited -f summary
expect 0 'online-multilevel schedule: T = 50 steps, c = 2 slots in RAM, 3 disk slots' -- \
  "$cairn" schedule --online -T 50 -c 2 --disk-slots 3 -f text
# The design that runs is named: prices of at most 2 steps share the disk as RAM; higher ones
# place disk checkpoints at a doubling spacing, whose first value is printed.
expect 0 '"mode":"shared"' -- "$cairn" schedule --online -T 50 -c 2 --disk-slots 3 -f summary
expect 0 '"mode":"spacing","first_spacing":' -- \
  "$cairn" schedule --online -T 50 -c 2 --disk-slots 3 --write-cost 5 --read-cost 5 -f summary
expect 0 'disk slots shared with RAM as one OnlineRevolve' -- \
  "$cairn" schedule --online -T 50 -c 2 --disk-slots 3 -f text
expect 0 'first disk checkpoint at' -- \
  "$cairn" schedule --online -T 50 -c 2 --disk-slots 3 --write-cost 5 --read-cost 5 -f text
expect 2 'RAM slots = 0, disk slots = 0 is not allowed' -- "$cairn" schedule --online -T 10 -c 0 --disk-slots 0

# --- bad input: a clear message on stderr and exit status 2
expect 2 "--steps: '0' is below the minimum; give a whole number from 1" -- "$cairn" info -T 0 -c 3
expect 2 "--slots: '0' is below the minimum" -- "$cairn" info -T 10 -c 0
expect 2 "--steps: '-3' is below the minimum" -- "$cairn" schedule -T -3 -c 2
expect 2 "--steps: 'abc' is not a number" -- "$cairn" info -T abc -c 2
expect 2 "--steps: '1.5' is not a whole number" -- "$cairn" info -T 1.5 -c 2
expect 2 "--steps: '99999999999999999999' is too large" -- "$cairn" info -T 99999999999999999999 -c 2
expect 2 "--slots: '1e400' is too large" -- "$cairn" info -T 10 -c 1e400
expect 2 "overflows 64-bit integers" -- "$cairn" info -T 1e18 -c 1
expect 2 "--slots is required" -- "$cairn" schedule -T 10
expect 2 "--slots is required" -- "$cairn" info -T 10
expect 2 "--slots does not apply to --schedule store-all" -- "$cairn" schedule -T 10 -c 3 --schedule store-all
expect 2 "--format" -- "$cairn" schedule -T 10 -c 2 --format xml
expect 2 "A subcommand is required" -- "$cairn"
expect 2 "line 2: not valid JSON" -- bash -c "printf '{\"op\":\"reverse\",\"step\":0}\nnot json\n' | '$cairn' check -T 1 -c 1"
expect 2 'line 1: unknown op "jump"' -- bash -c "echo '{\"op\":\"jump\"}' | '$cairn' check -T 1 -c 1"
expect 2 'line 1: "advance" needs an integer field "to"' -- bash -c "echo '{\"op\":\"advance\",\"from\":0}' | '$cairn' check -T 1 -c 1"
expect 2 'level "tape" is unknown' -- bash -c "echo '{\"op\":\"free\",\"slot\":0,\"level\":\"tape\"}' | '$cairn' check -T 1 -c 1"
expect 0 '0.1.0' -- "$cairn" --version

# --- uniform: the textbook baseline
expect 0 '"schedule":"uniform","steps":100,"slots":18,"legal":true' -- "$cairn" schedule -T 100 --schedule uniform --interval 10 -f summary
# T = 100, k = 10: 2T - 1 - T/k = 189 advances (N - 1 + N (1 - 1/k)).
expect 0 '"forward_steps":189,' -- "$cairn" schedule -T 100 --schedule uniform --interval 10 -f summary
expect 0 '"slots":18,' -- "$cairn" schedule -T 100 --schedule uniform --slots 18 -f summary
expect 2 "uniform checkpointing needs at least 18" -- "$cairn" schedule -T 100 --schedule uniform --slots 17
expect 2 "--schedule uniform needs --interval K" -- "$cairn" schedule -T 100 --schedule uniform
expect 2 "--interval applies to --schedule uniform only" -- "$cairn" schedule -T 100 -c 3 --interval 4

# --- plot: one mark per action (the legend adds one of each kind but stores)
expect 0 '' -- "$cairn" plot -T 100 -c 3 -o "$work/r.svg"
[[ $(head -c 4 "$work/r.svg") == "<svg" ]] || fail "plot did not write an SVG"
[[ $(grep -c 'fill="#2a9d3a" stroke' "$work/r.svg") == 28 ]] || fail "plot: expected 28 store marks"
[[ $(grep -c '<circle' "$work/r.svg") == 100 ]] || fail "plot: expected 99 restore marks + legend"
[[ $(grep -c 'stroke="#c0262d"' "$work/r.svg") == 101 ]] || fail "plot: expected 100 reverses + legend"
# --- plan: exact counts from the streams, priced
plan=("$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24)
expect 0 '"schedule":"revolve","detail":"c = 3","fits":true,"ram_slots":3,"disk_slots":0,"peak_bytes":40.0,"step_calls":491,"adjoint_calls":100' -- "${plan[@]}" -f json
expect 0 '"recommended":"revolve"' -- "${plan[@]}" -f json
expect 0 'uniform checkpointing needs at least 18' -- "${plan[@]}"
expect 0 'recommended: revolve (c = 3): 491 s predicted' -- "${plan[@]}"
# With room for the uniform schedule (18 slots for k = 10) and for everything (99 slots).
expect 0 '"schedule":"uniform","detail":"k = 10","fits":true,"ram_slots":18,"disk_slots":0,"peak_bytes":160.0,"step_calls":190,' -- \
  "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 144 -f json
expect 0 'recommended: store-all (T - 1 = 99 slots): 100 s predicted' -- \
  "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 800
expect 0 'recommended: multilevel' -- \
  "$cairn" plan -T 1000 --state-bytes 8 --step-seconds 1 --adjoint-seconds 1 --ram-bytes 16 \
  --disk-bytes 800 --disk-write-bandwidth 80 --disk-read-bandwidth 80
expect 0 'recommended: online (c = 5): the only schedule for an unknown T' -- \
  "$cairn" plan -T unknown --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 40
expect 2 "--state-bytes must be a whole number > 0" -- "$cairn" plan -T 100 --state-bytes 0 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24
expect 2 "nothing fits" -- "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 4
expect 2 "--disk-write-bandwidth must be a number > 0" -- "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24 --disk-bytes 100
expect 2 "--steps: 'soon' is not" -- "$cairn" plan -T soon --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24

# D3: file names reach rsvg-convert as they are, never through a shell.
if command -v rsvg-convert > /dev/null; then
  hostile="$work/x';touch pwned;'.png"  # through a shell, this would create $work/pwned
  expect 0 '' -- env -C "$work" "$cairn" plot -T 10 -c 2 -o "$work/plain.svg" --png "$hostile"
  [[ -e $work/pwned ]] && fail "plot --png ran a command hidden in a file name"
  [[ $(head -c 4 "$hostile" | tail -c 3) == PNG ]] || fail "plot --png did not write the PNG '$hostile'"
  expect 0 '' -- "$cairn" plot -T 10 -c 2 -o "$work/q'uote.svg" --png "$work/q'uote.png"
  [[ -s "$work/q'uote.png" ]] || fail "plot --png: a name with a quote"
  expect 0 '' -- "$cairn" plot -T 10 -c 2 -o "$work/-dash.svg" --png "$work/-dash.png"
  [[ -s $work/-dash.png ]] || fail "plot --png: a name with a leading dash"
else
  echo "rsvg-convert not found (Debian: librsvg2-bin): the PNG checks are skipped"
fi
expect 1 'rsvg-convert' -- env PATH=/nonexistent "$cairn" plot -T 10 -c 2 -o "$work/nopath.svg" --png "$work/nopath.png"
expect 2 "cannot write '$work/no/such/dir.svg': No such file or directory" -- \
  "$cairn" plot -T 10 -c 2 -o "$work/no/such/dir.svg"
expect 2 "--output is required" -- "$cairn" plot -T 10 -c 2
expect 2 "too many to draw legibly" -- "$cairn" plot -T 100000 -c 3 -o "$work/big.svg"

# --- hostile input: refused with exit 2 and a message, never wrapped, crashed on or called legal
# D1: -1 is the checker's "undefined"; an advance from it used to overflow the heap.
expect 1 'an advance needs 0 <= from < to <= T = 1' -- \
  bash -c "printf '{\"op\":\"reverse\",\"step\":0}\n{\"op\":\"advance\",\"from\":-1,\"to\":0}\n' | '$cairn' check -T 1 -c 1"
expect 1 'x_-1 does not exist' -- \
  bash -c "printf '{\"op\":\"restore\",\"slot\":0,\"step\":-1}\n' | '$cairn' check -T 1 -c 1"
# D2: levels are 32-bit, integers 64-bit: larger numbers are refused, not wrapped.
expect 2 'line 1: level 4294967296 is unknown' -- \
  bash -c "printf '{\"op\":\"store\",\"slot\":0,\"step\":0,\"level\":4294967296}\n{\"op\":\"reverse\",\"step\":0}\n{\"op\":\"end\"}\n' | '$cairn' check -T 1 -c 1"
expect 2 'line 2: "slot" = 9223372036854775808 exceeds 2^63 - 1' -- \
  bash -c "printf '{\"op\":\"store\",\"slot\":0,\"step\":0}\n{\"op\":\"free\",\"slot\":9223372036854775808}\n' | '$cairn' check -T 1 -c 1"
expect 2 'line 1: "to" = 18446744073709551615 exceeds' -- \
  bash -c "printf '{\"op\":\"advance\",\"from\":0,\"to\":18446744073709551615}\n' | '$cairn' check -T 1 -c 1"
# D10: a number beyond double range names its line; a read error is not an illegal stream.
expect 2 'line 2: a number is out of range' -- \
  bash -c "printf '{\"op\":\"store\",\"slot\":0,\"step\":0}\n{\"op\":\"reverse\",\"step\":1e400}\n' | '$cairn' check -T 1 -c 1"
expect 2 'cannot read the stream from standard input after line 0: Is a directory' -- \
  bash -c "'$cairn' check -T 1 -c 1 < /"
# D11: memory follows the stream, not T.
expect 1 '1000000000000000000 steps not reversed' -- bash -c "'$cairn' check -T 1e18 -c 1 < /dev/null"
expect 2 'or a max_table_bytes of at least 404804048 (the option --max-table-bytes)' -- \
  "$cairn" schedule -T 1e5 -c 100 --disk-slots 100 -f summary --max-table-bytes 1000
expect 0 '"optimal_cost":' -- "$cairn" schedule -T 100 -c 3 --disk-slots 3 -f summary --max-table-bytes 1e6
# D13: output that cannot be written is an error, not success.
if [[ -w /dev/full ]]; then
  expect 1 'cannot write to standard output: No space left on device' -- \
    bash -c "'$cairn' schedule -T 10 -c 3 > /dev/full"
  expect 1 'cannot write to standard output' -- bash -c "'$cairn' info -T 10 -c 3 > /dev/full"
  expect 1 'cannot write to standard output' -- bash -c "'$cairn' schedule -T 1e5 -c 3 > /dev/full"
fi
# D14: extreme budgets.
expect 0 'recommended: store-all' -- \
  "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 1e300
expect 2 '--disk-bytes must be a number >= 0' -- \
  "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24 --disk-bytes nan
expect 2 '--disk-bytes must be a number >= 0' -- \
  "$cairn" plan -T 100 --state-bytes 8 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24 --disk-bytes -1
expect 2 '--state-bytes must be a whole number > 0' -- \
  "$cairn" plan -T 100 --state-bytes 0.5 --step-seconds 1 --adjoint-seconds 0 --ram-bytes 24
expect 0 '"schedule":"online","detail":"c = 1001 (T learnt at the end)","fits":true' -- \
  "$cairn" plan -T 1000 --state-bytes 1000 --step-seconds 1 --adjoint-seconds 1 --ram-bytes 1e12 -f json
# D15: the text form of info works wherever the JSON one does.
expect 0 'C(9223372036854775807+1, 9223372036854775807) = more than 2^63 - 1' -- \
  "$cairn" info -T 5 -c 9223372036854775807
# D16: costs are finite numbers, and the messages say so.
expect 2 "--write-cost: 'nan' is not allowed; give a finite number >= 0" -- \
  "$cairn" schedule -T 10 -c 1 --disk-slots 2 --write-cost nan
expect 2 "--read-cost: 'inf' is not allowed" -- "$cairn" check -T 10 -c 1 --read-cost inf
expect 2 "--forward-cost: '0' is not allowed; give a finite number > 0" -- \
  "$cairn" schedule -T 10 -c 1 --disk-slots 2 --forward-cost 0
expect 2 "--backward-cost: 'x' is not a number" -- "$cairn" schedule -T 10 -c 1 --backward-cost x
expect 2 "--steps: '15e-1' is not a whole number" -- "$cairn" info -T 15e-1 -c 2
expect 0 'T = 15 steps' -- "$cairn" info -T 150e-1 -c 2

if ((failures > 0)); then
  echo "$failures CLI check(s) failed"
  exit 1
fi
echo "all CLI checks passed"
