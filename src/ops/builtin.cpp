#include "ops/builtin.hpp"

namespace tessera::ops {

void register_builtin_ops(OpRegistry& r) {
  register_threshold_ops(r);
  register_label_ops(r);
  register_measure_ops(r);
  register_preprocess_ops(r);
  register_augment_ops(r);
  register_region_ops(r);
  register_metric_ops(r);
  register_stitch_ops(r);
}

}  // namespace tessera::ops
