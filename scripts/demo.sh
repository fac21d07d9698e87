#!/usr/bin/env bash
# The main job, on data tessera makes itself: a synthetic 3-position fluorescence time-lapse with exact
# ground truth, imported into a fresh workspace on the embedded SQLite catalog, listed, measured, run through
# the example pipelines (nuclei into the catalog; plankton into an EcoTaxa zip), and summarised.
set -euo pipefail
tessera=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-demo}

rm -rf "$out"
mkdir -p "$out"
cd "$out"

echo "== generating a synthetic time-lapse (3 positions x 30 frames, 512x512, 16-bit) =="
"$tessera" synth timelapse data --positions 3 --frames 30 --size 512 --seed 1

echo "== creating a workspace (SQLite catalog + blob store) =="
"$tessera" init workspace
export TESSERA_DIR=$PWD/workspace

echo "== importing: path tokens become metadata, positions become series ordered by time =="
"$tessera" import data/images \
  --pattern '{experiment}/pos{position:int}/t{time:int}_c{channel:int}.png' \
  --series-by experiment,position --frame-by time --set all-frames

echo "== re-running the same import adds nothing =="
"$tessera" import data/images \
  --pattern '{experiment}/pos{position:int}/t{time:int}_c{channel:int}.png' \
  --series-by experiment,position --frame-by time

echo "== a set from a filter, and a listing =="
"$tessera" set create late-pos2 --where "position = 2 and time >= 25"
"$tessera" ls images --set late-pos2

printf 'name,color,kind,parent\nnucleus,#00ff00,label,\ndividing,#ff00ff,label,nucleus\nbackground,#0000ff,scribble,\n' > tags.csv
"$tessera" tags import tags.csv

echo "== measuring every frame: Otsu, labels, scikit-image regionprops; objects stored under a run =="
"$tessera" measure --set all-frames --min-area 30 --jobs 2 --csv objects.csv
echo "objects.csv: $(($(wc -l < objects.csv) - 1)) objects; first rows:"
head -3 objects.csv | cut -c1-150

echo "== the same measurement as a declarative pipeline (examples/timelapse_nuclei.json): objects with masks in the catalog =="
"$tessera" run "$root/examples/timelapse_nuclei.json" --jobs 2

echo "== plankton: 200 generated images -> vignetting correction, Otsu, regions with 10 px padding, EcoTaxa vignettes =="
"$tessera" synth plankton plankton --images 200 --seed 1
"$tessera" run "$root/examples/plankton_ecotaxa.json" --jobs 2
echo "plankton_ecotaxa.zip: $(unzip -Z1 plankton_ecotaxa.zip | grep -c png) images, TSV $(unzip -Z1 plankton_ecotaxa.zip | grep tsv)"
"$tessera" runs

echo "== summary =="
"$tessera" info
"$tessera" check

echo "== serving the demo catalog =="
# A fresh admin password each run, stored only as its argon2id hash; owner of the demo project.
password=$("$tessera" user add admin --generate --reset --role owner | sed -n 's/.*password: //p')
port=${TESSERA_PORT:-8080}
cat <<MSG
Log in at http://127.0.0.1:$port/ as  admin / $password
or from a shell:
  curl -s -X POST http://127.0.0.1:$port/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"name":"admin","password":"$password"}'
  curl -s http://127.0.0.1:$port/api/v1/projects -H "Authorization: Bearer TOKEN"
(API reference: docs/api.md. Ctrl-C stops the server; TESSERA_DEMO_NO_SERVE=1 skips this step.)
MSG
if [ "${TESSERA_DEMO_NO_SERVE:-0}" != 1 ]; then
  web=()
  [ -f "$root/web/dist/index.html" ] && web=(--web "$root/web/dist")
  exec "$tessera" serve --host 127.0.0.1 --port "$port" "${web[@]}"
fi
