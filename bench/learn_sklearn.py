"""Anchor of scripts/bench_learn.sh: the same pixel classification with scikit-image and scikit-learn.

usage: learn_sklearn.py DIR TREES DEPTH
Reads DIR/train.png, DIR/test.png, DIR/test_mask.png and DIR/samples.txt (y x label per labelled pixel,
written by tessera_bench_learn run), computes skimage.feature.multiscale_basic_features over the same
scales (sigma 0.7..10, 6 scales) on a [0, 1] percentile-normalised image, trains a RandomForestClassifier
(same tree count and depth, sqrt features per split, n_jobs=2) and predicts every pixel of test.png.
Prints "train_s=.. predict_s=.. dice=.. features=.. predict_cpu_s=.." with the same split of work as the
tessera driver (predict_cpu_s: CPU seconds of all the process's threads, steadier than wall time on a busy
machine).
"""
import sys
import time

import cv2
import numpy as np
from skimage.feature import multiscale_basic_features
from sklearn.ensemble import RandomForestClassifier


def normalised(image):
    image = image.astype(np.float32)
    low, high = np.percentile(image, (1.0, 99.8))
    return (image - low) / max(high - low, 1e-6)


def features(image):
    return multiscale_basic_features(normalised(image), intensity=True, edges=True, texture=True,
                                     sigma_min=0.7, sigma_max=10, num_sigma=6)


def main():
    folder, trees, depth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    train = cv2.imread(f"{folder}/train.png", cv2.IMREAD_UNCHANGED)
    test = cv2.imread(f"{folder}/test.png", cv2.IMREAD_UNCHANGED)
    test_mask = cv2.imread(f"{folder}/test_mask.png", cv2.IMREAD_UNCHANGED) > 0
    samples = np.loadtxt(f"{folder}/samples.txt", dtype=np.int64, ndmin=2)

    start = time.perf_counter()
    train_features = features(train)
    rows = train_features[samples[:, 0], samples[:, 1]]
    forest = RandomForestClassifier(n_estimators=trees, max_depth=depth, max_features="sqrt", n_jobs=2,
                                    random_state=0)
    forest.fit(rows, samples[:, 2])
    train_s = time.perf_counter() - start

    start = time.perf_counter()
    cpu_start = time.process_time()
    test_features = features(test)
    proba = forest.predict_proba(test_features.reshape(-1, test_features.shape[-1]))
    predicted = forest.classes_[np.argmax(proba, axis=1)].reshape(test.shape) == 2
    predict_s = time.perf_counter() - start
    predict_cpu_s = time.process_time() - cpu_start

    dice = 2 * np.count_nonzero(predicted & test_mask) / (np.count_nonzero(predicted) + np.count_nonzero(test_mask))
    print(f"train_s={train_s:.3f} predict_s={predict_s:.3f} dice={dice:.4f} features={train_features.shape[-1]} "
          f"predict_cpu_s={predict_cpu_s:.3f}")


if __name__ == "__main__":
    main()
