#!/usr/bin/env bash
# Learning curve of a trained skip-gram model: for each epoch
# snapshot MODEL.epochN.h5 (train-embeddings --snapshots) and the final MODEL.h5,
#   - analogy Hits@1, Hits@10, MRR of the means (vbq eval, paper protocol), and
#   - the ELBO per target on a fixed text sample with fixed randomness (vbq elbo):
#     nll at the means, E_q nll, KL per coordinate and per target,
# beside the training log's online nll/target (MODEL.log, -v).
#
# usage: scripts/learning_curve.sh MODEL.h5 [OUT_PREFIX]     (default out/curve-MODEL)
# env:   VBQ (build/vbq)  VBQ_DATA (required)  TOKENS (1000000)  SAMPLES (2)
#        TOP_WORDS (the model's vocabulary)  TEXT ($VBQ_DATA/wiki/enwiki-part00.txt.gz)
#        DATA_TOKENS (training tokens, to scale KL; default: the final model's train_tokens)
# writes OUT_PREFIX.csv and OUT_PREFIX.svg/.png (Hits@10 and -ELBO/target by epoch);
# PLOT_ONLY=1 redraws the plot from an existing OUT_PREFIX.csv.
set -euo pipefail
(($#)) || { sed -n 2,14p "$0" >&2; exit 1; }
source "$(dirname "$0")/common.sh"
VBQ=${VBQ:-$root/build/vbq}
: "${VBQ_DATA:?set VBQ_DATA to the shared data directory}"
model=$1
base=$(basename "${model%.h5}")
out=${2:-out/curve-$base}
text=${TEXT:-$VBQ_DATA/wiki/enwiki-part00.txt.gz}
questions=$VBQ_DATA/questions-words.txt
[ -e "$model" ] || { echo "learning_curve: no $model" >&2; exit 1; }
data_tokens=${DATA_TOKENS:-$(h5dump -a /train_tokens "$model" 2>/dev/null | sed -n 's/.*(0): "\([0-9]*\)".*/\1/p')}
[ -n "$data_tokens" ] || { echo "learning_curve: $model has no train_tokens attribute: set DATA_TOKENS" >&2; exit 1; }
top=()
[ -n "${TOP_WORDS:-}" ] && top=(--top-words "$TOP_WORDS")
mkdir -p "$(dirname "$out")"

snapshots=()
for f in "${model%.h5}".epoch*.h5; do [ -e "$f" ] && snapshots+=("$f"); done
mapfile -t snapshots < <(printf "%s\n" "${snapshots[@]}" | sort -V)
last=$(grep -c '^epoch' "${model%.h5}.log" 2>/dev/null || echo $((${#snapshots[@]} + 1)))

if [ "${PLOT_ONLY:-0}" != 1 ]; then
echo "epoch,covered,hits1,hits10,mrr,nll_at_means,expected_nll,kl_per_coordinate,kl_per_target,neg_elbo_per_target,online_nll" >"$out.csv"
printf '%-6s %9s %7s %7s %7s %10s %10s %8s %9s %10s %10s\n' epoch covered hits@1 hits@10 mrr nll@means \
  'E_q nll' KL/coord KL/target -ELBO/tgt online
epoch=0
for m in "${snapshots[@]}" "$model"; do
  if [[ $m == *.epoch*.h5 ]]; then epoch=${m##*.epoch}; epoch=${epoch%.h5}; else epoch=$last; fi
  read -r covered h1 h10 mrr < <("$VBQ" eval "$m" --questions "$questions" --lowercase "${top[@]}" |
    awk '$1 == "overall" { print $2, $3, $4, $5 }')
  elbo=$("$VBQ" elbo "$m" "$text" --lowercase --tokens "${TOKENS:-1000000}" --samples "${SAMPLES:-2}" \
    --data-tokens "$data_tokens")
  pick() { awk -v k="$1" 'index($0, k) == 1 { print $NF }' <<<"$elbo"; }
  online=$(awk -v e="$epoch" '$1 == "epoch" && $2 == e":" { print $4 }' "${model%.h5}.log" 2>/dev/null | tr -d ,)
  row=("$epoch" "$covered" "$h1" "$h10" "$mrr" "$(pick 'nll/target at')" "$(pick 'E_q nll')" "$(pick 'KL/coordinate')"
       "$(pick 'KL/target')" "$(pick '-ELBO')" "${online:-}")
  (IFS=,; echo "${row[*]}") >>"$out.csv"
  printf '%-6s %9s %7s %7s %7s %10s %10s %8s %9s %10s %10s\n' "${row[@]}"
done
fi

gnuplot <<EOF
set terminal svg size 760,480 dynamic noenhanced font 'sans,12' background '#ffffff'
set output '$out.svg'
set datafile separator ','
set title "Learning curve: $base"
set xlabel 'epoch'
set xtics 1
set ylabel 'analogy Hits@10 of the means'
set y2label '-ELBO per target (nats)'
set ytics nomirror
set y2tics
set key outside below
set grid
plot '$out.csv' every ::1 using 1:4 with linespoints lw 2 title 'Hits@10', \
     '' every ::1 using 1:10 axes x1y2 with linespoints lw 2 title '-ELBO/target (fixed sample)', \
     '' every ::1 using 1:6 axes x1y2 with linespoints dt 2 title 'nll/target at the means', \
     '' every ::1 using 1:11 axes x1y2 with linespoints dt 3 title 'online nll/target (training log)'
EOF
rsvg-convert -o "$out.png" "$out.svg"
echo "wrote $out.csv $out.svg $out.png"
