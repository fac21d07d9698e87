#pragma once

#include <memory>

#include "catalog_writer.hpp"
#include "tessera/pipeline/writer.hpp"

namespace tessera::app {

// The "tracks" writer: tracking as the end of a per-frame segmentation pipeline. It writes nothing per
// object; when the run is done it tracks, in every series whose images the run read, the objects this
// run stored (so a {"write": "catalog"} node must store them), replacing those series' tracks. Fields:
// max_gap, max_distance, divisions (as `tessera track`). Needs catalog input.
pipeline::WriterKind tracks_writer_kind(std::shared_ptr<CatalogTarget> target);

}  // namespace tessera::app
