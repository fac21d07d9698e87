#pragma once

#include "tessera/ops/registry.hpp"

namespace tessera::ops {

// One function per family, listed explicitly in builtin.cpp: no self-registering statics, which the
// linker drops from static libraries.
void register_threshold_ops(OpRegistry& r);   // threshold.cpp
void register_label_ops(OpRegistry& r);       // labels.cpp
void register_measure_ops(OpRegistry& r);     // regionprops.cpp
void register_preprocess_ops(OpRegistry& r);  // preprocess.cpp
void register_augment_ops(OpRegistry& r);     // augment.cpp
void register_region_ops(OpRegistry& r);      // regions.cpp
void register_metric_ops(OpRegistry& r);      // metrics.cpp
void register_stitch_ops(OpRegistry& r);      // stitch_op.cpp

void register_builtin_ops(OpRegistry& r);

}  // namespace tessera::ops
