# The scikit-image 0.19 cleaning chain app::clean_crowd_labels must reproduce pixel for pixel (formats.md
# 1.6): remove_small_holes and remove_small_objects on the mask (4-connectivity), a filled hole takes the
# label most often 4-adjacent to it (ties: smallest), relabel_sequential. Used by tests/app/crowd_clean_test.cpp
# and scripts/bench_clean.sh (the benchmark's anchor).
import numpy as np
from skimage import measure, morphology
from skimage.segmentation import relabel_sequential


def clean(img, hole_area=64, min_size=10):
    mask = img != 0
    filled = morphology.remove_small_holes(mask, area_threshold=hole_area, connectivity=1)
    kept = morphology.remove_small_objects(filled, min_size=min_size, connectivity=1)
    out = np.where(kept, img, 0).astype(np.int32)
    holes = filled & ~mask
    if holes.any():
        hl = measure.label(holes, connectivity=1)
        pairs_h, pairs_v = [], []
        for hs, vs in (((slice(1, None), slice(None)), (slice(None, -1), slice(None))),
                       ((slice(None, -1), slice(None)), (slice(1, None), slice(None))),
                       ((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                       ((slice(None), slice(None, -1)), (slice(None), slice(1, None)))):
            h, v = hl[hs], img[vs]
            sel = (h > 0) & (v > 0)
            pairs_h.append(h[sel])
            pairs_v.append(v[sel].astype(np.int64))
        h = np.concatenate(pairs_h)
        v = np.concatenate(pairs_v)
        codes, counts = np.unique(h.astype(np.int64) * 65536 + v, return_counts=True)
        ch, cv_ = codes // 65536, codes % 65536
        order = np.lexsort((cv_, -counts, ch))
        first = np.unique(ch[order], return_index=True)[1]
        fill = np.zeros(hl.max() + 1, np.int32)
        fill[ch[order][first]] = cv_[order][first]
        where = kept & holes
        out[where] = fill[hl[where]]
    out = relabel_sequential(out)[0]
    return out.astype(np.uint8 if out.max() <= 255 else np.uint16)
