#pragma once

#include <memory>
#include <optional>

#include "tessera/app/workspace.hpp"
#include "tessera/pipeline/writer.hpp"

namespace tessera::app {

// Where the "catalog" writer stores objects; run_id is set once the run is recorded.
struct CatalogTarget {
  Workspace* workspace = nullptr;
  catalog::Id project_id = 0;
  std::optional<catalog::Id> run_id;
};

// The "catalog" writer: each object of its stage becomes a catalog object of its root image (frame, label,
// box in the image, features, mask as a PNG blob), linked to the run; a region nested in another (split
// with nested = children) links to its outer object as parent. Needs roots loaded from the catalog.
pipeline::WriterKind catalog_writer_kind(std::shared_ptr<CatalogTarget> target);

}  // namespace tessera::app
