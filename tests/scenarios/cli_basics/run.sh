#!/usr/bin/env bash
# Drives the real CLI end to end on data it generates: synth -> init -> import -> filters -> sets -> tags,
# and checks the error paths (exit status and message) a user meets first.
set -uo pipefail
tessera=$(realpath "$1")
source "$(dirname "$0")/../lib.sh"

export TESSERA_DIR=$work/ws
check synth 0 "wrote 12 images" -- "$tessera" synth timelapse data --positions 2 --frames 6 --size 128 --nuclei 6
check init 0 "schema v[0-9]" -- "$tessera" init ws
pattern='{experiment}/pos{position:int}/t{time:int}_c{channel:int}.png'
check import 0 "imported 12 images" -- "$tessera" import data/images --pattern "$pattern" --series-by experiment,position --frame-by time --set all
check reimport 0 "imported 0 images .* 12 already present" -- "$tessera" import data/images --pattern "$pattern" --series-by experiment,position --frame-by time
check filter 0 "t005_c0.png" -- "$tessera" ls images --where "position = 2 and time >= 5"
check filter-count 0 "^1 images" -- bash -c "\"$tessera\" ls images --where \"position = 2 and time >= 5\" 2>&1 >/dev/null"
check json 0 '"sets": \[' -- "$tessera" ls images --json --limit 1
check set-create 0 "created with 6 images" -- "$tessera" set create pos1 --where "position = 1"
check set-remove 0 "removed 3 image" -- "$tessera" set remove pos1 --where "time >= 3"
check set-show 0 "set 'pos1': 3 images" -- "$tessera" set show pos1
printf 'name,color,parent\nnucleus,#00ff00,\nmitosis,#ff00ff,nucleus\n' > tags.csv
check tags 0 "imported 2 tags" -- "$tessera" tags import tags.csv
check info 0 "series exp1/2 +6 frames" -- "$tessera" info
check events 0 "image.imported" -- "$tessera" events
check check 0 "missing 0  damaged 0" -- "$tessera" check

# Error paths: a clear message, the right exit status, nothing half-done.
check bad-where 2 "position 12" -- "$tessera" ls images --where "position = 'a"
check injection 2 "unexpected character ';'" -- "$tessera" ls images --where "position = 1; DROP TABLE images"
check unknown-set 3 "no set named 'nope'" -- "$tessera" ls images --set nope
check dup-set 4 "already exists" -- "$tessera" set create pos1
check bad-frame-by 2 "--frame-by names 'frame'" -- "$tessera" import data/images --pattern "$pattern" --series-by experiment --frame-by frame
printf 'name,color\nbad,#12\n' > badtags.csv
check bad-tags 2 "badtags.csv: record 2: field 'color'" -- "$tessera" tags import badtags.csv
mkdir -p broken/exp1/pos09
head -c 300 data/images/exp1/pos01/t000_c0.png > broken/exp1/pos09/t000_c0.png
echo "not an image" > broken/exp1/pos09/t001_c0.png
cp data/images/exp1/pos01/t002_c0.png broken/exp1/pos09/t002_c0.png
cp data/images/exp1/pos01/t003_c0.png broken/exp1/pos09/stray.png
check corrupt 1 "failed: .*t000_c0.png" -- "$tessera" import broken --pattern "$pattern" --series-by experiment,position --frame-by time
check corrupt-rest 0 "imported 0 images .* 1 already present" -- bash -c "\"$tessera\" import broken/exp1/pos09/t002_c0.png"
check unmatched 1 "unmatched: .*stray.png" -- "$tessera" import broken --pattern "$pattern"
check no-workspace 3 "not a tessera workspace" -- "$tessera" --dir "$work/nowhere" info

# Operations and measurement on files.
frame=data/images/exp1/pos01/t000_c0.png
check ops-list 0 "threshold_otsu .*Otsu" -- "$tessera" ops
check op-otsu 0 '"threshold"' -- "$tessera" op threshold_otsu "$frame" mask.png
check op-mask-written 0 "PNG image data, 128 x 128, 8-bit grayscale" -- file mask.png
check op-bad-param 2 "threshold_otsu: parameter 'bins' must be in \[2, 65536\], got 1" -- "$tessera" op threshold_otsu --bins 1 "$frame" m.png
check op-label 0 "" -- "$tessera" op label mask.png labels.png
check op-regionprops 0 '"area"' -- "$tessera" op regionprops labels.png
check measure 0 "^image,label,area,bbox-0" -- "$tessera" measure "$frame" data/images/exp1/pos01/t001_c0.png --min-area 5
printf 'P5 1 1 255\n' > notimage.png
check measure-bad-file 1 "failed: notimage.png" -- "$tessera" measure "$frame" notimage.png --csv objects.csv
check measure-csv-kept 0 "t000_c0.png,1," -- cat objects.csv
check measure-bad-threshold 2 "--threshold must be otsu, quantile:Q or a number" -- "$tessera" measure "$frame" --threshold median
check measure-set 0 "measured .* objects in 12 images .*run" -- "$tessera" measure --set all --min-area 5
check runs-in-feed 0 "run.finished" -- "$tessera" events --limit 1000

finish
