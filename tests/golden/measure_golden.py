#!/usr/bin/python3
"""Golden test: `tessera measure` against scikit-image 0.19.3 (Debian's python3-skimage).

Usage: /usr/bin/python3 tests/golden/measure_golden.py TESSERA_BINARY [--data DIR] [--svml] [--keep] [-v]

For every input image, both sides run the same chain: t = threshold_otsu(gray) (or a given value);
mask = gray > t (gray <= t, the complement, with --dark-objects); label(mask, connectivity); remove_small_objects +
relabel_sequential when --min-area is given; regionprops_table(lab, intensity_image=gray). Inputs are
synthetic images generated into a temp dir (8/16-bit and float, bright and dark objects, objects on the
border, with holes, one-pixel objects, one-pixel-wide lines, an all-background and a constant image) and
every raw image under the shared data folder (--data, default /work/shared/data); masks and label files
are not raw images and are skipped. Colour images are converted to grey as tessera does (OpenCV's
Rec.601 RGB2GRAY on the decoded pixels, which is what cv2 gives here too).

Comparison per image and row: the row count, label, area, bbox, euler_number, area_convex and area_filled
identical; every other column within relative 1e-6 (absolute 1e-9 near 0), NaN equal to NaN. The report
also counts how many values are bit-identical.

numpy's `**` runs on Intel SVML on CPUs with AVX-512 (AVX512_SKX); SVML's pow is not correctly rounded
(51.0 ** 1.0 != 51.0 there), which perturbs the last bits of scikit-image's central moments and, for
exactly symmetric regions, its orientation (+-pi/4 and +-pi/2 flips). tessera follows the portable
computation (libm's pow), so by default this script disables that dispatch (NPY_DISABLE_CPU_FEATURES=
AVX512_SKX) and expects agreement to the last bit. With --svml numpy keeps SVML: moment columns then get a
tolerance, and orientation / axis / eccentricity differences on regions whose exact (integer) moments are
degenerate are reported as SVML noise rather than failures.

Exit status 0 when every image passes; the last line is "N passed, M failed" (images).
"""

import argparse
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

SVML = "--svml" in sys.argv
if not SVML:
    features = os.environ.get("NPY_DISABLE_CPU_FEATURES", "")
    os.environ["NPY_DISABLE_CPU_FEATURES"] = (features + " AVX512_SKX").strip()
warnings.simplefilter("ignore")  # numpy warns when the CPU has no AVX-512; skimage about single labels

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import filters, measure, morphology, segmentation  # noqa: E402

PROPERTIES = ["label", "area", "bbox", "centroid", "perimeter", "perimeter_crofton", "eccentricity",
              "solidity", "extent", "orientation", "axis_major_length", "axis_minor_length",
              "equivalent_diameter_area", "intensity_mean", "intensity_max", "intensity_min", "euler_number",
              "area_convex", "area_filled", "feret_diameter_max"]
COLUMNS = ["label", "area", "bbox-0", "bbox-1", "bbox-2", "bbox-3", "centroid-0", "centroid-1", "perimeter",
           "perimeter_crofton", "eccentricity", "solidity", "extent", "orientation", "axis_major_length",
           "axis_minor_length", "equivalent_diameter_area", "intensity_mean", "intensity_max", "intensity_min",
           "euler_number", "area_convex", "area_filled", "feret_diameter_max"]
INTEGER_COLUMNS = {"label", "area", "bbox-0", "bbox-1", "bbox-2", "bbox-3", "euler_number", "area_convex",
                   "area_filled"}
MOMENT_COLUMNS = {"eccentricity", "orientation", "axis_major_length", "axis_minor_length"}
REL, ABS = 1e-6, 1e-9


# ---------------------------------------------------------------------------------------------------------
# Inputs

def synthetic(rng, h, w, holes=True):
    """A float field in [0, 1]: background 0, objects 1, with every shape the measurements care about."""
    img = np.zeros((h, w), np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(40):  # ellipses, some cut by the border
        cy, cx = rng.uniform(-5, h + 5), rng.uniform(-5, w + 5)
        a, b, t = rng.uniform(2, 14), rng.uniform(2, 14), rng.uniform(0, np.pi)
        u = ((xx - cx) * np.cos(t) + (yy - cy) * np.sin(t)) / a
        v = (-(xx - cx) * np.sin(t) + (yy - cy) * np.cos(t)) / b
        img[u * u + v * v <= 1] = 1
    if holes:
        for _ in range(6):  # rings and blocks with holes
            cy, cx, r = rng.integers(15, h - 15), rng.integers(15, w - 15), rng.integers(5, 12)
            d = np.hypot(yy - cy, xx - cx)
            img[(d <= r) & (d >= r - 3)] = 1
            img[(d < r - 3)] = 0
            img[cy, cx] = 1  # an island in the hole
    img[10:30, 3] = 1  # vertical line
    img[h - 4, 20:60] = 1  # horizontal line near the bottom border
    for k in range(25):  # diagonal lines
        img[40 + k, 100 + k] = 1
        img[40 + k, 160 - k] = 1
    for k in range(30):  # a one-pixel-wide curve
        img[int(h / 2 + 10 * np.sin(k / 5)), 200 + k] = 1
    img[0, :12] = 1  # along the top border
    img[h - 1, w - 1] = 1  # a corner pixel
    for _ in range(30):  # isolated pixels
        img[rng.integers(0, h), rng.integers(0, w)] = 1
    img[5:9, 5:9] = 1  # a square and a 1x2 bar
    img[5, 12:14] = 1
    return img


def write_synthetic(folder, rng):
    """Synthetic inputs: (file, options) pairs."""
    inputs = []
    for depth, scale in (("u8", 1), ("u16", 257)):
        for dark in (False, True):
            field = synthetic(rng, 180, 260)
            noise = rng.normal(0, 6, field.shape)
            values = np.where(field > 0, 190, 40) + noise
            if dark:
                values = 255 - values
            values = np.clip(values * scale + rng.integers(0, scale, field.shape), 0, 255 * scale)
            pixels = values.astype(np.uint8 if depth == "u8" else np.uint16)
            name = f"syn_{'dark' if dark else 'bright'}_{depth}.png"
            cv2.imwrite(os.path.join(folder, name), pixels)
            inputs.append((name, ["--dark-objects"] if dark else []))
    field = synthetic(rng, 120, 300)
    pixels = (np.where(field > 0, 0.8, 0.2) + rng.normal(0, 0.05, field.shape)).astype(np.float32)
    tifffile.imwrite(os.path.join(folder, "syn_bright_f32.tif"), pixels)
    inputs.append(("syn_bright_f32.tif", []))
    cv2.imwrite(os.path.join(folder, "syn_background.png"), np.zeros((64, 80), np.uint8))
    inputs.append(("syn_background.png", []))
    cv2.imwrite(os.path.join(folder, "syn_constant.png"), np.full((50, 70), 123, np.uint16))
    inputs.append(("syn_constant.png", []))
    dim = rng.integers(0, 120, (60, 90)).astype(np.uint8)  # noise, nothing above 200
    cv2.imwrite(os.path.join(folder, "syn_dim.png"), dim)
    inputs.append(("syn_dim.png", ["--threshold", "200"]))
    field = synthetic(rng, 150, 240)
    pixels = (np.where(field > 0, 200, 30) + rng.integers(0, 10, field.shape)).astype(np.uint8)
    cv2.imwrite(os.path.join(folder, "syn_min_area.png"), pixels)
    inputs.append(("syn_min_area.png", ["--min-area", "5"]))
    cv2.imwrite(os.path.join(folder, "syn_conn4.png"), pixels)
    inputs.append(("syn_conn4.png", ["--connectivity", "1"]))
    return inputs


def shared_inputs(data, folder):
    """The raw images of the shared data folder, linked or converted into folder: (file, options) pairs."""
    inputs = []

    def link(src, name, options):
        if os.path.exists(src):
            os.symlink(src, os.path.join(folder, name))
            inputs.append((name, options))

    def join(*parts):
        return os.path.join(data, *parts)

    em = join("bh2019_kidney_em_nuclei")
    for sub in ("test", "train", "blank"):
        images = os.path.join(em, sub, "images")
        for f in sorted(os.listdir(images)) if os.path.isdir(images) else []:
            # Otsu leaves ~3000 specks per image; --min-area keeps scikit-image's share of the run short.
            link(os.path.join(images, f), f"em_{sub}_{f}", ["--min-area", "50"])
    sd = join("stardist_test_images")
    link(os.path.join(sd, "img2d.tif"), "stardist_img2d.tif", [])
    link(os.path.join(sd, "img3d.tif"), "stardist_img3d.tif", [])  # tessera measures the first plane
    link(os.path.join(sd, "histo.jpg"), "stardist_histo.jpg", ["--dark-objects", "--min-area", "20"])
    lt = join("laptrack_timelapse")
    link(os.path.join(lt, "napari_interactive_fix_data", "example_images.tif"), "laptrack_example_images.tif", [])
    npz = os.path.join(lt, "cell_segmentation_data", "data_small.npz")
    if os.path.exists(npz):
        frames = np.load(npz)["images"]
        for t in (0, len(frames) - 1):
            name = f"laptrack_data_small_t{t}.png"
            cv2.imwrite(os.path.join(folder, name), frames[t])
            inputs.append((name, []))
    link(join("deepcell_label_one_division", "X.ome.tiff"), "deepcell_X.ome.tiff", [])
    link(join("deepcell_mesmer_multiplex", "example_input_combined.tif"), "mesmer_combined.tif", [])
    for sub in ("m106_mn01_n1_sml", "m106_mn01_n2_sml"):
        vignettes = join("ecotaxa_zooscan_vignettes", sub)
        for f in sorted(os.listdir(vignettes)) if os.path.isdir(vignettes) else []:
            if f.endswith(".jpg"):
                link(os.path.join(vignettes, f), f"ecotaxa_{f}", ["--dark-objects"])
    kvasir = join("kvasir_seg_endoscopy", "images")
    for f in sorted(os.listdir(kvasir)) if os.path.isdir(kvasir) else []:
        link(os.path.join(kvasir, f), f"kvasir_{f}", ["--min-area", "20"])
    flowcam = join("morphocut_flowcam_plankton", "flowcam_COMICS_DY086_20171118_MSC019_t0_4x_000001.tif")
    link(flowcam, "flowcam_collage.tif", ["--min-area", "20"])
    return inputs


def read_gray(path):
    """The first frame as tessera decodes it, converted to one channel as tessera does."""
    lower = path.lower()
    if lower.endswith((".tif", ".tiff")):
        try:
            with tifffile.TiffFile(path) as tif:
                pixels = tif.pages[0].asarray()
        except Exception:  # LZW without imagecodecs
            pixels = np.asarray(Image.open(path))
        if pixels.ndim == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY if pixels.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)
        return pixels
    pixels = cv2.imread(path, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY if pixels.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return pixels


# ---------------------------------------------------------------------------------------------------------
# Reference and comparison

def parse_options(options):
    o = {"threshold": "otsu", "dark": False, "min_area": 0, "connectivity": 2}
    i = 0
    while i < len(options):
        if options[i] == "--dark-objects":
            o["dark"] = True
        elif options[i] == "--threshold":
            i += 1
            o["threshold"] = options[i]
        elif options[i] == "--min-area":
            i += 1
            o["min_area"] = int(options[i])
        elif options[i] == "--connectivity":
            i += 1
            o["connectivity"] = int(options[i])
        i += 1
    return o


def reference(gray, options):
    o = parse_options(options)
    t = filters.threshold_otsu(gray) if o["threshold"] == "otsu" else float(o["threshold"])
    mask = gray <= t if o["dark"] else gray > t
    lab = measure.label(mask, connectivity=o["connectivity"])
    if o["min_area"] > 1:
        lab = segmentation.relabel_sequential(morphology.remove_small_objects(lab, min_size=o["min_area"]))[0]
    table = measure.regionprops_table(lab, intensity_image=gray, properties=PROPERTIES)
    rows = [[float(table[c][i]) for c in COLUMNS] for i in range(len(table["label"]))]
    return lab, rows


def exact_moments(lab, label):
    """n^2 times the central moments, exact: (N20, N02, N11) of the region's pixel coordinates."""
    rr, cc = np.nonzero(lab == label)
    n = len(rr)
    rr, cc = rr.astype(object), cc.astype(object)
    sr, sc = int(rr.sum()), int(cc.sum())
    return (n * int((rr * rr).sum()) - sr * sr, n * int((cc * cc).sum()) - sc * sc,
            n * int((rr * cc).sum()) - sr * sc)


def svml_noise(column, lab, label):
    """Whether a moment column of this region is ill-conditioned, so SVML's last bits can move it."""
    n20, n02, n11 = exact_moments(lab, label)
    if column == "orientation":
        return n20 == n02 or n11 == 0
    if column == "axis_minor_length":
        return n20 * n02 == n11 * n11
    if column == "eccentricity":
        return n20 == n02 and n11 == 0
    return False


def close(x, y, column):
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if column in INTEGER_COLUMNS:
        return x == y
    rel = 1e-9 if SVML and column in MOMENT_COLUMNS else REL
    return abs(x - y) <= max(ABS, rel * max(abs(x), abs(y)))


def compare(name, lab, ref, got, stats, verbose):
    """Returns the problems found for one image; updates the per-column statistics."""
    problems = []
    if len(ref) != len(got):
        return [f"{name}: scikit-image has {len(ref)} rows, tessera {len(got)}"]
    for r, g in zip(ref, got):
        for column, x, y in zip(COLUMNS, r, g):
            s = stats.setdefault(column, {"values": 0, "exact": 0, "noise": 0, "failed": 0})
            s["values"] += 1
            if x == y or (math.isnan(x) and math.isnan(y)):
                s["exact"] += 1
                continue
            if close(x, y, column):
                continue
            if SVML and column in MOMENT_COLUMNS and svml_noise(column, lab, int(r[0])):
                s["noise"] += 1
                if verbose:
                    print(f"  svml noise: {name} label {int(r[0])} {column}: skimage {x!r}, tessera {y!r}")
                continue
            s["failed"] += 1
            problems.append(f"{name} label {int(r[0])} {column}: scikit-image {x!r}, tessera {y!r}")
    return problems


def run_tessera(binary, folder, files, options, out_csv, jobs):
    cmd = [binary, "measure", *files, "--csv", out_csv, "--jobs", str(jobs), *options]
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    rows = {}
    if os.path.exists(out_csv):
        with open(out_csv, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header != ["image"] + COLUMNS:
                raise SystemExit(f"unexpected CSV header: {header}")
            for line in reader:
                rows.setdefault(line[0], []).append([float(v) for v in line[1:]])
    return proc, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tessera")
    parser.add_argument("--data", default="/work/shared/data")
    parser.add_argument("--svml", action="store_true", help="compare with numpy's AVX-512 SVML dispatch left on")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    args.data = os.path.abspath(args.data)  # inputs are linked from a temp folder
    binary = os.path.abspath(args.tessera)

    folder = tempfile.mkdtemp(prefix="tessera-measure-golden-")
    start = time.time()
    try:
        rng = np.random.default_rng(20190)
        inputs = write_synthetic(folder, rng) + shared_inputs(args.data, folder)
        groups = {}
        for name, options in inputs:
            groups.setdefault(tuple(options), []).append(name)

        passed, failed, stats, objects = 0, 0, {}, 0
        reference_seconds = 0.0
        for group, (options, names) in enumerate(groups.items()):
            out_csv = os.path.join(folder, f"out_{group}.csv")
            proc, got = run_tessera(binary, folder, names, list(options), out_csv, args.jobs)
            tessera_failed = set()
            if proc.returncode != 0:
                print(f"tessera measure {' '.join(options)} exited {proc.returncode}: {proc.stderr.strip()}")
                tessera_failed = {n for n in names if f"failed: {n}:" in proc.stderr} or set(names)
            for name in names:
                if name in tessera_failed:
                    print(f"FAIL {name}: tessera could not measure it")
                    failed += 1
                    continue
                t0 = time.time()
                try:
                    lab, ref = reference(read_gray(os.path.join(folder, name)), list(options))
                except Exception as e:  # a reference that cannot run is a broken test, not a pass
                    print(f"FAIL {name}: scikit-image reference failed: {e}")
                    failed += 1
                    continue
                reference_seconds += time.time() - t0
                objects += len(ref)
                if name not in got and ref:
                    problems = [f"{name}: no rows from tessera (expected {len(ref)})"]
                else:
                    problems = compare(name, lab, ref, got.get(name, []), stats, args.verbose)
                label = f"{name} [{' '.join(options)}]" if options else name
                if problems:
                    failed += 1
                    print(f"FAIL {label}: {len(ref)} objects, {len(problems)} problems")
                    for p in problems[:5]:
                        print(f"  {p}")
                else:
                    passed += 1
                    if args.verbose:
                        print(f"ok   {label}: {len(ref)} objects")

        mode = "numpy SVML on" if SVML else "numpy portable pow (AVX512_SKX dispatch off)"
        print(f"{objects} objects in {len(inputs)} images; {mode}; scikit-image took {reference_seconds:.1f} s, "
              f"{time.time() - start:.1f} s in all")
        for column in COLUMNS:
            s = stats.get(column)
            if s:
                extra = f", {s['noise']} svml noise" if s["noise"] else ""
                print(f"  {column:26s} {s['exact']}/{s['values']} bit-identical{extra}, {s['failed']} failed")
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 else 1
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
