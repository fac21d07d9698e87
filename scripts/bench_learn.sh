#!/usr/bin/env bash
# Pixel classification benchmark (`make bench`): on two 1024x1024 frames of the synthetic nuclear time-lapse,
# training on 100,000 labelled pixels (features of the training frame + forest) and predicting every pixel of
# the other frame (features + forest), by tessera (learn::PixelClassifier: 43 features over 6 scales, its own
# histogram random forest) and, in the same run, by scikit-image multiscale_basic_features (same 6 scales) +
# scikit-learn RandomForestClassifier (n_jobs=2; the anchor), with the same tree count and depth and the same
# labelled pixels. Both foreground Dice figures on the held-back frame are printed; speed counts only at
# comparable Dice.
#   scripts/bench_learn.sh [BUILD]      TESSERA_BENCH_SMOKE=1: 256x256 frames, 10,000 pixels, 20 trees (CI)
#   TESSERA_FOREST_KERNEL=portable|avx2|avx512 forces tessera's forest prediction kernel (default: the
#   fastest this CPU runs); the kernel that ran is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_learn"
die() { echo "bench_learn: $*" >&2; exit 1; }
[ -x "$driver" ] || die "$driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"
/usr/bin/python3 -c 'import skimage, sklearn, numpy, cv2' 2>/dev/null ||
  die "/usr/bin/python3 needs scikit-image, scikit-learn (python3-sklearn), numpy and OpenCV"

if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then size=256 pixels=10000 trees=20; else size=1024 pixels=100000 trees=100; fi
depth=12
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$driver" gen "$work" "$size"
tessera_line=$("$driver" run "$work" "$pixels" "$trees" "$depth")
python_line=$(/usr/bin/python3 "$root/bench/learn_sklearn.py" "$work" "$trees" "$depth")
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

t_train=$(field train_s "$tessera_line"); t_predict=$(field predict_s "$tessera_line")
p_train=$(field train_s "$python_line"); p_predict=$(field predict_s "$python_line")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else printf "n/a" }'; }
train_ratio=$(ratio "$p_train" "$t_train")
predict_ratio=$(ratio "$p_predict" "$t_predict")
total_ratio=$(awk -v a="$p_train" -v b="$p_predict" -v c="$t_train" -v d="$t_predict" 'BEGIN { printf "%.1f", (a + b) / (c + d) }')
verdict() { awk -v r="$1" 'BEGIN { exit !(r >= 5) }' && echo PASS || echo MISS; }

printf '\nlearn benchmark: %dx%d synthetic nuclei, %d labelled pixels, %d trees of depth %d\n' "$size" "$size" "$pixels" "$trees" "$depth"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the times)"
echo "  tessera forest prediction kernel: $(field forest_kernel "$tessera_line") (TESSERA_FOREST_KERNEL chooses)"
printf '  %-44s %9s %11s %8s %9s\n' classifier "train s" "predict s" Dice features
printf '  %-44s %9.3f %11.3f %8.4f %9s\n' "tessera learn::PixelClassifier" "$t_train" "$t_predict" \
  "$(field dice "$tessera_line")" "$(field features "$tessera_line")"
printf '  %-44s %9.3f %11.3f %8.4f %9s\n' "skimage + sklearn RandomForest n_jobs=2 (anchor)" "$p_train" "$p_predict" \
  "$(field dice "$python_line")" "$(field features "$python_line")"
echo "  speed-up training (features + forest): ${train_ratio}x (goal >= 5x): $(verdict "$train_ratio")"
echo "  speed-up features + prediction:        ${predict_ratio}x (goal >= 5x): $(verdict "$predict_ratio")"
echo "  speed-up overall:                       ${total_ratio}x"
t_cpu=$(field predict_cpu_s "$tessera_line"); p_cpu=$(field predict_cpu_s "$python_line")
echo "  features + prediction CPU seconds (all threads): tessera ${t_cpu}, anchor ${p_cpu}" \
  "($(ratio "$p_cpu" "$t_cpu")x less CPU; the wall-time ratio above is the figure, this one is steadier under load)"
