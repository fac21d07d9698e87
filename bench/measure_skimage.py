#!/usr/bin/python3
"""The scikit-image side of the measure benchmark: what `tessera measure FILES --min-area A` does, written
the way a scientist would (threshold_otsu, label, remove_small_objects, relabel_sequential,
regionprops_table), one CSV with the same columns."""
import os
import sys

import numpy as np
from skimage import io
from skimage.filters import threshold_otsu
from skimage.measure import label, regionprops_table
from skimage.morphology import remove_small_objects
from skimage.segmentation import relabel_sequential

COLUMNS = ["label", "area", "bbox", "centroid", "perimeter", "perimeter_crofton", "eccentricity", "solidity",
           "extent", "orientation", "axis_major_length", "axis_minor_length", "equivalent_diameter_area",
           "intensity_mean", "intensity_max", "intensity_min", "euler_number", "area_convex", "area_filled",
           "feret_diameter_max"]


def main():
    out = sys.argv[1]
    min_area = int(sys.argv[2])
    files = sys.argv[3:]
    with open(out, "w") as f:
        header = None
        for path in files:
            gray = io.imread(path)
            t = threshold_otsu(gray)
            lab = label(gray > t, connectivity=2)
            if min_area > 1:
                lab = relabel_sequential(remove_small_objects(lab, min_size=min_area))[0]
            table = regionprops_table(lab, intensity_image=gray, properties=COLUMNS)
            names = list(table.keys())
            if header is None:
                header = ["image"] + names
                f.write(",".join(header) + "\n")
            name = os.path.basename(path)
            for i in range(len(table["label"])):
                f.write(name + "," + ",".join(repr(float(table[k][i])) if isinstance(table[k][i], (float, np.floating))
                                              else str(table[k][i]) for k in names) + "\n")


if __name__ == "__main__":
    main()
