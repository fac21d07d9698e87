#!/usr/bin/python3
"""Writes N 1024x1024 8-bit PNGs of bright blobs (50-400 per image: discs, ellipses, touching pairs, some with
holes) on an uneven, noisy background, for the measure benchmark. Deterministic for a seed."""
import os
import sys

import cv2
import numpy as np


def make(seed, size=1024):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    background = 30 + 20 * np.cos((xx - size / 2) / size * 2.2) * np.cos((yy - size / 2) / size * 2.2)
    img = background.copy()
    count = int(rng.integers(50, 401))
    for _ in range(count):
        cx, cy = rng.uniform(0, size, 2)
        a, b = rng.uniform(3, 18, 2)
        angle = rng.uniform(0, 180)
        level = rng.uniform(110, 220)
        blob = np.zeros((size, size), np.uint8)
        cv2.ellipse(blob, (int(cx), int(cy)), (int(a), int(b)), angle, 0, 360, 255, -1)
        if rng.uniform() < 0.1 and min(a, b) > 8:
            cv2.circle(blob, (int(cx), int(cy)), 3, 0, -1)
        img[blob > 0] = level
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        cv2.imwrite(os.path.join(out, "img%04d.png" % i), make(1000 + i))


if __name__ == "__main__":
    main()
