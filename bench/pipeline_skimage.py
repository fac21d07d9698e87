#!/usr/bin/python3
"""The anchor of the pipeline benchmark: examples/plankton_ecotaxa.json written the way a scikit-image user
would write it (flat-field by a Gaussian blur computed at 1/8 scale, grey, Otsu, label, small objects
removed, regionprops_table, 10 px crops, faded background, red contours, EcoTaxa TSV + PNGs in a zip).
Usage: pipeline_skimage.py OUT.zip IMAGE...   Prints "objects N"."""
import io
import sys
import zipfile

import numpy as np
from skimage import color, filters, io as skio, measure, morphology, segmentation, transform

PROPS = ["label", "area", "area_convex", "area_filled", "axis_major_length", "axis_minor_length", "bbox", "centroid",
         "eccentricity", "equivalent_diameter_area", "euler_number", "extent", "feret_diameter_max", "intensity_max",
         "intensity_mean", "intensity_min", "orientation", "perimeter", "perimeter_crofton", "solidity"]


def flat_field(rgb):
    h, w = rgb.shape[:2]
    sigma = max(h, w) / 8.0
    small = transform.rescale(rgb, 1 / 8, channel_axis=-1, anti_aliasing=True)
    blurred = filters.gaussian(small, sigma / 8, channel_axis=-1, mode="reflect")
    flat = transform.resize(blurred, (h, w), order=1)
    return flat / flat.mean(axis=(0, 1))


def png(array):
    buf = io.BytesIO()
    skio.imsave(buf, array, format="png", check_contrast=False)
    return buf.getvalue()


def main():
    out, files = sys.argv[1], sys.argv[2:]
    rows = []
    objects = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for path in files:
            raw = skio.imread(path)[..., :3].astype(np.float64)
            corrected = np.clip(raw / flat_field(raw), 0, 255)
            gray = color.rgb2gray(corrected / 255.0)
            mask = gray <= filters.threshold_otsu(gray)
            labels = morphology.remove_small_objects(measure.label(mask, connectivity=2), 30)
            labels, _, _ = segmentation.relabel_sequential(labels)
            table = measure.regionprops_table(labels, gray, properties=PROPS)
            stem = path.rsplit("/", 2)[-2] + "_" + path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            h, w = labels.shape
            for k, lab in enumerate(table["label"]):
                y0, x0, y1, x1 = (int(table["bbox-%d" % i][k]) for i in range(4))
                y0, x0, y1, x1 = max(0, y0 - 10), max(0, x0 - 10), min(h, y1 + 10), min(w, x1 + 10)
                own = labels[y0:y1, x0:x1] == lab
                g = gray[y0:y1, x0:x1]
                faded = np.where(own, g, 0.7 * 1.0 + 0.3 * g)
                c = corrected[y0:y1, x0:x1].astype(np.uint8)
                contour = c.copy()
                contour[segmentation.find_boundaries(own, mode="inner")] = (255, 0, 0)
                oid = "%s_%d" % (stem, lab)
                names = []
                for facet, image in (("gray_faded", (faded * 255).astype(np.uint8)), ("color", c), ("contour", contour)):
                    name = "images/%s_%s.png" % (oid, facet)
                    z.writestr(name, png(image))
                    names.append(name)
                values = [repr(float(table[p][k])) for p in table if p != "label"]
                for rank, name in enumerate(names):
                    rows.append("\t".join([oid, name, str(rank)] + values))
                objects += 1
        header = ["object_id", "img_file_name", "img_rank"] + ["object_" + p.replace("-", "_") for p in table if p != "label"]
        types = ["[t]", "[t]", "[f]"] + ["[f]"] * (len(header) - 3)
        z.writestr("ecotaxa_plankton.tsv", "\ufeff" + "\n".join(["\t".join(header), "\t".join(types)] + rows) + "\n")
    print("objects", objects)


if __name__ == "__main__":
    main()
