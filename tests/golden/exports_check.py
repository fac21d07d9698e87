#!/usr/bin/python3
"""Exports checked by the tools users load them with: numpy, and reference decoders written here.

Usage: /usr/bin/python3 tests/golden/exports_check.py TESSERA_BINARY [--keep]

Builds a COCO dataset of generated images and known masks (objects with holes, objects in two parts,
touching objects), imports it with `tessera dataset import coco`, then checks every export of the set:
  * npz: numpy.load; X float32 (images, rows, cols, 1) equal to the pixels, y int32 instance labels equal to
    the masks painted in annotation order;
  * coco --rle: the compressed counts decoded by the reference decoder below give the masks exactly; area =
    pixel count, bbox = [min col, min row, width, height] (COCO conventions);
  * coco (polygons): the polygons rasterized at pixel centres give the masks with their holes filled;
  * yolo detect: one line per object, box (centre, size) / image size from the mask's pixel-corner box;
  * yolo segment: one line per 8-connected part, drawn with cv2.fillPoly (as Ultralytics does) they give the
    masks (holes filled);
  * export -> import -> export is byte-identical for COCO (both encodings) and YOLO (both tasks).
Exit status 0 when everything passes.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

W, H = 48, 36
NAMES = ["nucleus", "mitotic"]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def image_pixels(k):
    r, c = np.mgrid[0:H, 0:W]
    return ((k * 40 + r * 3 + c) % 256).astype(np.uint8)


def masks_of(k):
    """(class index, mask) per object of image k, in annotation order."""
    objects = []
    ring = np.zeros((H, W), np.uint8)
    ring[3:13, 2 + k:14 + k] = 1
    ring[6:9, 5 + k:8 + k] = 0  # a hole
    objects.append((0, ring))
    two = np.zeros((H, W), np.uint8)
    two[2 + k:6 + k, 24:29] = 1
    two[15:20, 40:44] = 1  # a second part
    objects.append((1, two))
    blob = np.zeros((H, W), np.uint8)
    cv2.circle(blob, (14, 26), 4 + k, 1, -1)
    objects.append((0, blob))
    touching = np.zeros((H, W), np.uint8)
    touching[22:30, 19 + k:24 + k] = 1  # touches the blob on some images
    touching[22:30, 19 + k:24 + k] &= 1 - blob[22:30, 19 + k:24 + k]
    if touching.any():
        objects.append((1, touching))
    return objects


def rle_counts(mask):
    flat = mask.flatten(order="F")
    counts, current, run = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(run)
            run, current = 0, v
        run += 1
    counts.append(run)
    return counts


def decode_compressed(text):
    """Reference decoder of pycocotools' compressed counts (formats.md 5.2)."""
    counts, p = [], 0
    while p < len(text):
        x, k, more = 0, 0, True
        while more:
            c = ord(text[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def mask_from_counts(counts, h, w):
    flat = np.zeros(h * w, np.uint8)
    at = 0
    for i, n in enumerate(counts):
        if i % 2 == 1:
            flat[at:at + n] = 1
        at += n
    assert at == h * w, "counts do not cover the mask"
    return flat.reshape((w, h)).T


def rasterize_polygons(polygons, h, w):
    """Pixels whose centre is inside (even-odd) any polygon in corner coordinates."""
    out = np.zeros((h, w), np.uint8)
    for flat in polygons:
        pts = np.array(flat, float).reshape(-1, 2)
        for r in range(h):
            y = r + 0.5
            xs = []
            for i in range(len(pts)):
                (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % len(pts)]
                if (y0 > y) != (y1 > y):
                    xs.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
            xs.sort()
            for a, b in zip(xs[::2], xs[1::2]):
                for c in range(w):
                    if a <= c + 0.5 < b:
                        out[r, c] = 1
    return out


def holes_filled(mask):
    padded = np.pad(mask, 1).astype(np.uint8)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 2, flags=8)
    return (flood != 2)[1:-1, 1:-1].astype(np.uint8)


def coco_bbox(mask):
    rows, cols = np.nonzero(mask)
    return [int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)]


def run(tessera, *args, ok=True):
    p = subprocess.run([tessera, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        raise SystemExit(f"tessera {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p


def tree(folder):
    files = {}
    for root, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(root, n)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def main():
    tessera = os.path.abspath(sys.argv[1])
    keep = "--keep" in sys.argv
    tmp = tempfile.mkdtemp(prefix="tessera-exports-")
    try:
        images_dir = os.path.join(tmp, "images")
        os.makedirs(images_dir)
        doc = {"images": [], "annotations": [], "categories": [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)]}
        truth = {}
        for k in range(4):
            name = f"img_{k}.png"
            cv2.imwrite(os.path.join(images_dir, name), image_pixels(k))
            doc["images"].append({"id": 10 + k, "width": W, "height": H, "file_name": name})
            truth[name] = masks_of(k)
            for cls, mask in truth[name]:
                doc["annotations"].append({"id": len(doc["annotations"]) + 1, "image_id": 10 + k,
                                           "category_id": cls + 1, "iscrowd": 0,
                                           "segmentation": {"size": [H, W], "counts": rle_counts(mask)}})
        source = os.path.join(tmp, "source.json")
        with open(source, "w") as f:
            json.dump(doc, f)

        ws = os.path.join(tmp, "ws")
        run(tessera, "init", ws)
        run(tessera, "--dir", ws, "dataset", "import", "coco", source, "--images", images_dir, "--set", "cells")

        # npz
        npz_path = os.path.join(tmp, "cells.npz")
        run(tessera, "--dir", ws, "export", "npz", "--set", "cells", "--out", npz_path)
        data = np.load(npz_path)
        X, y = data["X"], data["y"]
        check(X.dtype == np.float32 and X.shape == (4, H, W, 1), f"npz X is {X.dtype} {X.shape}")
        check(y.dtype == np.int32 and y.shape == (4, H, W, 1), f"npz y is {y.dtype} {y.shape}")
        for k in range(4):
            check(np.array_equal(X[k, ..., 0], image_pixels(k).astype(np.float32)), f"npz X[{k}] pixels")
            expected = np.zeros((H, W), np.int32)
            for i, (_, mask) in enumerate(truth[f"img_{k}.png"]):
                expected[mask > 0] = i + 1
            check(np.array_equal(y[k, ..., 0], expected), f"npz y[{k}] labels")

        # COCO, RLE and polygons
        for rle in (True, False):
            out = os.path.join(tmp, f"coco-{rle}.json")
            run(tessera, "--dir", ws, "export", "coco", "--set", "cells", "--out", out, *(["--rle"] if rle else []))
            with open(out) as f:
                coco = json.load(f)
            check([c["name"] for c in coco["categories"]] == NAMES, f"coco categories {coco['categories']}")
            check([c["id"] for c in coco["categories"]] == [1, 2], "coco category ids start at 1")
            by_image = {}
            for a in coco["annotations"]:
                by_image.setdefault(a["image_id"], []).append(a)
            for image in coco["images"]:
                expected = truth[image["file_name"]]
                got = by_image.get(image["id"], [])
                check(len(got) == len(expected), f"coco {image['file_name']}: {len(got)} annotations")
                for a, (cls, mask) in zip(got, expected):
                    if rle:
                        seg = a["segmentation"]
                        check(seg["size"] == [H, W], "rle size")
                        decoded = mask_from_counts(decode_compressed(seg["counts"]), H, W)
                        want = mask
                    else:
                        decoded = rasterize_polygons(a["segmentation"], H, W)
                        want = holes_filled(mask)
                    check(np.array_equal(decoded, want), f"coco rle={rle} annotation {a['id']} mask")
                    check(a["area"] == int(want.sum()), f"coco rle={rle} annotation {a['id']} area {a['area']}")
                    check(a["bbox"] == coco_bbox(want), f"coco rle={rle} annotation {a['id']} bbox {a['bbox']}")
                    check(a["category_id"] == cls + 1, f"coco annotation {a['id']} category")
            # export -> import -> export
            ws2 = os.path.join(tmp, f"ws-coco-{rle}")
            run(tessera, "init", ws2)
            run(tessera, "--dir", ws2, "dataset", "import", "coco", out, "--images", images_dir, "--set", "cells")
            again = os.path.join(tmp, f"coco-{rle}-again.json")
            run(tessera, "--dir", ws2, "export", "coco", "--set", "cells", "--out", again, *(["--rle"] if rle else []))
            with open(out, "rb") as a, open(again, "rb") as b:
                check(a.read() == b.read(), f"coco rle={rle}: export -> import -> export differs")

        # YOLO
        for task in ("detect", "segment"):
            out = os.path.join(tmp, f"yolo-{task}")
            run(tessera, "--dir", ws, "export", "yolo", "--set", "cells", "--task", task, "--val", "0.25",
                "--seed", "3", "--out", out)
            with open(os.path.join(out, "data.yaml")) as f:
                yaml = f.read()
            check("names:\n  0: nucleus\n  1: mitotic\n" in yaml, f"data.yaml names: {yaml!r}")
            splits = {s: sorted(os.listdir(os.path.join(out, "images", s))) for s in ("train", "val")}
            check(len(splits["val"]) == 1 and len(splits["train"]) == 3, f"yolo split {splits}")
            for split, names in splits.items():
                for name in names:
                    with open(os.path.join(out, "labels", split, name.replace(".png", ".txt"))) as f:
                        lines = [line.split() for line in f.read().splitlines()]
                    expected = truth[name]
                    if task == "detect":
                        check(len(lines) == len(expected), f"yolo detect {name}: {len(lines)} lines")
                        for line, (cls, mask) in zip(lines, expected):
                            x, y0, w, h = coco_bbox(mask)
                            want = [(x + w / 2) / W, (y0 + h / 2) / H, w / W, h / H]
                            got = [float(v) for v in line[1:]]
                            check(int(line[0]) == cls, f"yolo detect {name} class")
                            check(np.allclose(got, want, atol=1e-6), f"yolo detect {name}: {got} vs {want}")
                    else:
                        drawn = {}
                        for line in lines:
                            vals = np.array([float(v) for v in line[1:]]).reshape(-1, 2)
                            check(len(vals) >= 3, f"yolo segment {name}: a polygon of {len(vals)} points")
                            pts = np.round(vals * [W, H]).astype(np.int32)
                            layer = np.zeros((H, W), np.uint8)
                            cv2.fillPoly(layer, [pts], 1)
                            drawn.setdefault(int(line[0]), np.zeros((H, W), np.uint8))
                            drawn[int(line[0])] |= layer
                        for cls in (0, 1):
                            want = np.zeros((H, W), np.uint8)
                            for c, mask in expected:
                                if c == cls:
                                    want |= holes_filled(mask)
                            got = drawn.get(cls, np.zeros((H, W), np.uint8))
                            check(np.array_equal(got, want), f"yolo segment {name} class {cls} pixels "
                                                             f"({int((got != want).sum())} differ)")
            ws2 = os.path.join(tmp, f"ws-yolo-{task}")
            run(tessera, "init", ws2)
            run(tessera, "--dir", ws2, "dataset", "import", "yolo", out, "--set", "cells")
            again = os.path.join(tmp, f"yolo-{task}-again")
            run(tessera, "--dir", ws2, "export", "yolo", "--set", "cells", "--task", task, "--val", "0.25",
                "--seed", "3", "--out", again)
            check(tree(out) == tree(again), f"yolo {task}: export -> import -> export differs")

        # Bad input: an unknown set, a set without annotations.
        p = run(tessera, "--dir", ws, "export", "coco", "--set", "nope", "--out", os.path.join(tmp, "x.json"), ok=False)
        check(p.returncode != 0 and "nope" in p.stderr, f"unknown set: {p.returncode} {p.stderr!r}")
    finally:
        if keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
