#!/usr/bin/env bash
# Word-analogy evaluation: vbq (bench/bench_analogy) against plain numpy
# (bench/analogy_vs_numpy.py) on the same random V=100000, d=100 model and the
# real questions ($VBQ_DATA/questions-words.txt). Prints a table and appends one
# JSON line to bench/results/analogy.json.
#
# numpy runs twice: in float32 (the plain, fast way: the speed baseline) and in
# float64 (exact scores, the equality reference: ranks must agree on every
# question). A third model, built from 50 prototype vectors so that many scores
# tie or nearly tie, checks agreement there (one repetition).
#
# Env: VBQ_DATA (required), BUILD_DIR (default <repo>/build), PYTHON, REPS (3),
#      V (100000), D (100).
set -euo pipefail
source "$(dirname "$0")/common.sh"
repo=$root
build=${BUILD_DIR:-$repo/build}
: "${VBQ_DATA:?set VBQ_DATA to the shared data directory}"
questions=$VBQ_DATA/questions-words.txt
reps=${REPS:-3}
V=${V:-100000}
D=${D:-100}

if [ ! -x "$build/bench_analogy" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target bench_analogy >/dev/null
fi
python=${PYTHON:-python3}
"$python" -c 'import numpy' 2>/dev/null || python=/usr/bin/python3
"$python" -c 'import numpy' 2>/dev/null || { echo "bench_analogy.sh: no python3 with numpy" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

field() { "$python" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "bench_analogy: vbq, V=$V d=$D, median of $reps ..." >&2
ours=$("$build/bench_analogy" --random "$V" "$D" --questions "$questions" --reps "$reps" \
  --vectors-out "$tmp/vec.bin" --ranks-out "$tmp/ranks.txt")
echo "bench_analogy: numpy float32 ..." >&2
np_f32=$("$python" "$repo/bench/analogy_vs_numpy.py" --vectors "$tmp/vec.bin" --questions "$questions" \
  --ranks "$tmp/ranks.txt" --reps "$reps")
echo "bench_analogy: numpy float64 ..." >&2
np_f64=$("$python" "$repo/bench/analogy_vs_numpy.py" --vectors "$tmp/vec.bin" --questions "$questions" \
  --ranks "$tmp/ranks.txt" --reps "$reps" --dtype float64)
echo "bench_analogy: tie stress (50 prototype vectors, exclude-question-words) ..." >&2
ties=$("$build/bench_analogy" --random "$V" "$D" --prototypes 50 --exclude --questions "$questions" --reps 1 \
  --vectors-out "$tmp/ties.bin" --ranks-out "$tmp/ties.txt")
ties_np=$("$python" "$repo/bench/analogy_vs_numpy.py" --vectors "$tmp/ties.bin" \
  --questions "$questions" --ranks "$tmp/ties.txt" --exclude --reps 1 --dtype float64)

covered=$(field "$ours" covered)
t_ours=$(field "$ours" seconds_median)
c_ours=$(field "$ours" cpu_seconds_median)
load=$(cut -d' ' -f1-3 /proc/loadavg)
ratio() { "$python" -c "print(f'{$1 / $2:.3f}')"; }
# Wall time is what a user waits; CPU time (all threads) is the steadier figure
# when other jobs share the machine (see the load average printed below).
printf '\n%-33s %8s %8s %6s %8s %8s %6s %13s\n' "V=$V d=$D, $covered questions" "vbq s" "numpy s" "ratio" \
  "vbq cpu" "np cpu" "ratio" "ranks agree"
for pair in "numpy float32 (speed baseline)|$np_f32" "numpy float64 (exact scores)|$np_f64"; do
  label=${pair%%|*}
  js=${pair#*|}
  t_np=$(field "$js" seconds_median)
  c_np=$(field "$js" cpu_seconds_median)
  printf '%-33s %8.2f %8.2f %6s %8.2f %8.2f %6s %13s\n' "$label" "$t_ours" "$t_np" "$(ratio "$t_ours" "$t_np")" \
    "$c_ours" "$c_np" "$(ratio "$c_ours" "$c_np")" "$(field "$js" agree)/$covered"
done
printf '%-33s %8.2f %8.2f %6s %8.2f %8.2f %6s %13s\n' "ties: 50 prototypes, float64" \
  "$(field "$ties" seconds_median)" "$(field "$ties_np" seconds_median)" "-" "$(field "$ties" cpu_seconds_median)" \
  "$(field "$ties_np" cpu_seconds_median)" "-" "$(field "$ties_np" agree)/$(field "$ties" covered)"
echo "load average during the run: $load (2 cores: above 2 means shared CPUs, wall times inflated)"

mkdir -p "$repo/bench/results"
line=$("$python" - "$load" "$ours" "$np_f32" "$np_f64" "$ties" "$ties_np" <<'EOF'
import json, sys, datetime
load = sys.argv[1]
ours, n32, n64, ties, tnp = (json.loads(a) for a in sys.argv[2:])
print(json.dumps({
    "date": datetime.datetime.now().isoformat(timespec="seconds"), "loadavg": load,
    "method": "screened (U distinct question words) + exact double rescoring",
    "V": ours["V"], "d": ours["d"], "covered": ours["covered"],
    "vbq_seconds": ours["seconds_median"], "vbq_threads": ours["threads"],
    "numpy_seconds": n32["seconds_median"], "ratio": ours["seconds_median"] / n32["seconds_median"],
    "vbq_cpu_seconds": ours["cpu_seconds_median"], "numpy_cpu_seconds": n32["cpu_seconds_median"],
    "cpu_ratio": ours["cpu_seconds_median"] / n32["cpu_seconds_median"],
    "agree_float32": n32["agree"], "agree_float64": n64["agree"],
    "numpy_float64_seconds": n64["seconds_median"],
    "ties_agree_float64": tnp["agree"], "ties_covered": ties["covered"],
    "vbq": ours, "numpy_float32": n32, "numpy_float64": n64, "ties_numpy_float64": tnp,
}))
EOF
)
echo "$line" >> "$repo/bench/results/analogy.json"
echo "$line"
