#!/usr/bin/env bash
# Drives `tessera run` / `tessera runs` end to end the way a plankton team would: generate images, check and
# run the shipped EcoTaxa example on a folder (outputs moved to a temp dir), compare with the generator's
# truth, read the run records, repeat a run, and meet the error paths (broken file, changed folder, wrong
# writer for the input, unreadable image).
set -uo pipefail
tessera=$(realpath "$1")
src=$(cd "$(dirname "$0")/../../.." && pwd)
py=/usr/bin/python3
source "$(dirname "$0")/../lib.sh"

export TESSERA_DIR=$work/ws
pattern='st{station}/img_{index:int}.png'
check synth 0 "wrote 4 images, [0-9]+ organisms" -- "$tessera" synth plankton data --images 4 --width 512 --height 512 --max-objects 6 --nested-fraction 1 --seed 4
check init 0 "initialised" -- "$tessera" init ws

# The shipped example with its outputs (and its default input) moved under this folder.
$py - "$src/examples/plankton_ecotaxa.json" "$work" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
out = sys.argv[2] + '/out'
p['input']['dir'] = sys.argv[2] + '/data'
for n in p['nodes']:
    if n.get('write') == 'ecotaxa': n['path'] = out + '/plankton.zip'
    if n.get('write') == 'csv': n['path'] = out + '/objects.csv'
json.dump(p, open('plankton.json', 'w'), indent=1)
# Broken copy: a typo in an op, a bad parameter, an unknown field and a writer without its path.
b = json.loads(json.dumps(p))
b['nodes'][1]['op'] = 'to_grey'
b['nodes'][2]['params']['bins'] = 1
b['nodes'][7]['pading'] = 3
del b['nodes'][-1]['path']
json.dump(b, open('broken.json', 'w'), indent=1)
# The same segmentation into the catalog (nested particles as children of their organism).
c = json.loads(json.dumps(p))
del c['input']
c['name'] = 'plankton-catalog'
c['nodes'] = [n for n in c['nodes'][:8]] + [{'write': 'catalog'}]
c['nodes'][7]['nested'] = 'children'
c['nodes'][7]['padding'] = 0
json.dump(c, open('catalog.json', 'w'), indent=1)
EOF

check check-ok 0 "plankton.json: 12 nodes, 2 stage\(s\), ok" -- "$tessera" run --check plankton.json
check check-broken 2 "pipeline .plankton-ecotaxa.: [0-9]+ problems:" -- "$tessera" run --check broken.json
out=$("$tessera" run --check broken.json 2>&1)
for want in "node 2 \(to_grey\): no operation named 'to_grey'.*to_gray" "node 3 \(threshold_otsu\): .*'bins'" \
            "node 8 \(extract_regions\): unknown field 'pading'" "node 12 \(csv\): 'path' is required"; do
  check "check-broken-lists $want" 0 "$want" -- echo "$out"
done
check check-not-json 2 "not valid JSON" -- bash -c "echo '{\"nodes\": [' > bad.json; \"$tessera\" run --check bad.json"
check run-broken-no-run 2 "problems" -- "$tessera" run broken.json --input data --pattern "$pattern"

check run-folder 0 "run 1: succeeded .* 4 items, 4 roots, [0-9]+ objects \(stage 1\), 0 failed" -- \
  "$tessera" run plankton.json --input data --pattern "$pattern" --jobs 2
check truth 0 "^ok" -- $py - data/manifest.json out/objects.csv out/plankton.zip <<'EOF'
import collections, csv, io, json, sys, zipfile
m = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
per = collections.Counter(r['source'] for r in rows)
nested = collections.Counter()
for r in rows: nested[r['source']] += int(r['nested_count'])
for im in m['images']:
    assert per[im['file']] == len(im['organisms']), (im['file'], per[im['file']], len(im['organisms']))
    assert nested[im['file']] == im['nested'], (im['file'], nested[im['file']], im['nested'])
z = zipfile.ZipFile(sys.argv[3])
tsv = [n for n in z.namelist() if n.endswith('.tsv')][0]
raw = z.read(tsv)
assert raw.startswith(b'\xef\xbb\xbf')
lines = list(csv.reader(io.StringIO(raw[3:].decode('utf-8'), newline=''), delimiter='\t'))
lines = [l for l in lines if l]
assert set(lines[1]) <= {'[f]', '[t]'}
assert len(lines) - 2 == 3 * len(rows), (len(lines), len(rows))
names = set(z.namelist())
col = lines[0].index('img_file_name')
assert all(l[col] in names for l in lines[2:])
print('ok', len(rows), 'objects')
EOF
cp out/objects.csv first.csv
check run-file-input 0 "run 2: succeeded" -- "$tessera" run plankton.json --jobs 3
check same-output 0 "" -- cmp out/objects.csv first.csv

check runs 0 "plankton-ecotaxa +succeeded" -- "$tessera" runs
check runs-json 0 '^ok 2$' -- bash -c "\"$tessera\" runs --json | $py -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; assert all(x[\"status\"]==\"succeeded\" for x in r); print(\"ok\", len(r))'"
check runs-show 0 '^ok$' -- bash -c "\"$tessera\" runs show 1 | $py -c '
import json, sys
r = json.load(sys.stdin)
assert r[\"kind\"] == \"pipeline\" and r[\"status\"] == \"succeeded\", r
assert r[\"spec\"][\"pipeline\"][\"name\"] == \"plankton-ecotaxa\"
assert r[\"tessera_version\"], r
assert r[\"params\"][\"jobs\"] == 2, r[\"params\"]
assert r[\"inputs\"][\"pattern\"] == \"st{station}/img_{index:int}.png\" and len(r[\"inputs\"][\"digest\"]) == 64, r[\"inputs\"]
assert r[\"inputs\"][\"files\"] == 4
assert r[\"counts\"][\"failed\"] == 0 and r[\"counts\"][\"items\"] == 4, r[\"counts\"]
print(\"ok\")'"
check runs-show-missing 3 "" -- "$tessera" runs show 999

rm out/objects.csv out/plankton.zip
check repeat 0 "run 3: succeeded" -- "$tessera" run --repeat 1
check repeat-same-output 0 "" -- cmp out/objects.csv first.csv
check repeat-plus-file 2 "give nothing else" -- "$tessera" run plankton.json --repeat 1
check repeat-missing 3 "" -- "$tessera" run --repeat 999

# The folder changes: the run cannot be repeated exactly any more.
cp data/st01/img_00000.png data/st02/img_00001.png
check repeat-changed 4 "changed since it ran" -- "$tessera" run --repeat 1

# An unreadable image among good ones: the others are exported, the run ends partial (exit 1).
mkdir -p data/st09 && echo "not a png" > data/st09/img_00099.png
check partial 1 "partial .* 1 failed" -- "$tessera" run plankton.json --input data --pattern "$pattern"
check partial-names-file 0 "failed: .*img_00099.png: load" -- bash -c "\"$tessera\" run plankton.json --input data --pattern '$pattern' 2>&1; true"
check partial-recorded 0 "partial" -- "$tessera" runs
check fail-fast 5 "img_00099.png: .*not an image" -- "$tessera" run plankton.json --input data --pattern "$pattern" --fail-fast
check fail-fast-recorded 0 "failed" -- "$tessera" runs
rm -r data/st09

# Catalog input: import, run into the catalog, repeat on the recorded image ids.
check import 0 "imported 4 images" -- "$tessera" import data --pattern "$pattern" --set all
check catalog-on-folder 2 "catalog writer" -- "$tessera" run catalog.json --input data --pattern "$pattern"
check catalog-run 0 "succeeded .* 4 items" -- "$tessera" run catalog.json --set all --jobs 2
last=$("$tessera" runs --json | tail -1 | $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check catalog-show 0 '"image_ids"' -- "$tessera" runs show "$last"
# The catalog writer stored as many objects as the run made. Was a bug, fixed (src/app/catalog_writer.cpp,
# CatalogWriter::write): nested children are stored twice (once without their parent), so this fails.
check catalog-count 0 '^ok' -- bash -c "\"$tessera\" runs show $last | $py -c '
import json, sys
r = json.load(sys.stdin)
made, stored = r[\"counts\"][\"objects\"][1], r[\"counts\"][\"outputs\"][0][\"objects\"]
assert made == stored, (\"run made\", made, \"catalog writer stored\", stored)
print(\"ok\")'"
check catalog-repeat 0 "succeeded .* 4 items" -- "$tessera" run --repeat "$last"
check unknown-set 3 "no set named 'nope'" -- "$tessera" run catalog.json --set nope
check set-and-input 2 "cannot be combined" -- "$tessera" run catalog.json --set all --input data

finish
