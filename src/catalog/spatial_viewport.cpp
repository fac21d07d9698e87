// Viewport queries: the annotations or objects of one image whose box meets a rectangle, through the
// spatial index of migration 0003 (SQLite R*Tree tables, PostgreSQL GiST over (image, frame, box)).
// The index is a coarse filter (the R*Tree holds integer boxes, GiST's && counts touching edges); the
// exact half-open test on the stored columns follows it in the same statement.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "catalog/access.hpp"
#include "catalog/annotations_rows.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

constexpr std::int64_t kMaxLimit = 1'000'000;

void check_query(const ViewportQuery& q) {
  if (q.limit < 1 || q.limit > kMaxLimit) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("viewport 'limit' must be in [1, {}], got {}", kMaxLimit, q.limit));
  }
  if (!q.bbox) return;
  const BBox& b = *q.bbox;
  for (double v : {b.x0, b.y0, b.x1, b.y1}) {
    if (!std::isfinite(v)) throw Error(ErrorCode::invalid_argument, "viewport 'bbox' holds a value that is not finite");
  }
  if (b.x1 < b.x0 || b.y1 < b.y0) {
    throw Error(ErrorCode::invalid_argument, "viewport 'bbox' must be [x0, y0, x1, y1] with x0 <= x1 and y0 <= y1");
  }
}

// An R*Tree bound: integral, one pixel outside the real one, within the 32-bit range the table holds.
std::int64_t rtree_bound(double v, int outward) {
  const double rounded = outward < 0 ? std::floor(v) - 1 : std::ceil(v) + 1;
  return static_cast<std::int64_t>(std::clamp(rounded, -2147483647.0, 2147483647.0));
}

enum class Index { spatial, scan };

// SELECT columns FROM table (alias t) for a viewport, with its parameters, up to limit + 1 rows (the extra
// row tells truncation). `extra` adds table-specific conditions (e.g. "t.deleted = 0").
std::string viewport_sql(Dialect dialect, Index index, const std::string& columns, const std::string& table,
                         const std::string& rtree, const std::string& extra, const ViewportQuery& q,
                         SqlParams& params) {
  const bool spatial = q.bbox && index == Index::spatial;
  std::string from = fmt::format("{} t", table);
  std::string where;
  if (spatial && dialect == Dialect::sqlite) {
    // CROSS JOIN keeps the R*Tree as the outer loop: otherwise the planner, which has no statistics for the
    // (image, frame) index, may walk every box of the image and probe the R*Tree for each.
    from = fmt::format("{} r CROSS JOIN {} t", rtree, table);
    where = "t.id = r.id AND r.image_lo = ? AND ";
    params.emplace_back(q.image_id);
    if (q.frame_index) {
      where += "r.frame_lo = ? AND ";
      params.emplace_back(*q.frame_index);
    }
    where += "r.x_lo <= ? AND r.x_hi >= ? AND r.y_lo <= ? AND r.y_hi >= ? AND ";
    params.insert(params.end(), {rtree_bound(q.bbox->x1, 1), rtree_bound(q.bbox->x0, -1), rtree_bound(q.bbox->y1, 1),
                                 rtree_bound(q.bbox->y0, -1)});
  }
  where += "t.image_id = ?";
  params.emplace_back(q.image_id);
  if (q.frame_index) {
    where += " AND t.frame_index = ?";
    params.emplace_back(*q.frame_index);
  }
  if (q.tag_id) {
    where += " AND t.tag_id = ?";
    params.emplace_back(*q.tag_id);
  }
  if (!extra.empty()) where += " AND " + extra;
  if (spatial && dialect == Dialect::postgresql) {
    // The same expression as the GiST index of migration 0003, so the planner can use it.
    where +=
        " AND box(point(t.bbox_x0, t.bbox_y0), point(t.bbox_x1, t.bbox_y1)) && "
        "box(point(CAST(? AS double precision), CAST(? AS double precision)), "
        "point(CAST(? AS double precision), CAST(? AS double precision)))";
    params.insert(params.end(), {q.bbox->x0, q.bbox->y0, q.bbox->x1, q.bbox->y1});
  }
  if (q.bbox) {
    // Typed: PostgreSQL would otherwise read the numbers as the columns' type (bigint for objects).
    where +=
        " AND t.bbox_x0 < CAST(? AS double precision) AND t.bbox_x1 > CAST(? AS double precision) "
        "AND t.bbox_y0 < CAST(? AS double precision) AND t.bbox_y1 > CAST(? AS double precision)";
    params.insert(params.end(), {q.bbox->x1, q.bbox->x0, q.bbox->y1, q.bbox->y0});
  }
  params.emplace_back(q.limit + 1);
  return fmt::format("SELECT {} FROM {} WHERE {} LIMIT ?", columns, from, where);
}

ObjectPage select_objects(Catalog& catalog, const ViewportQuery& q, Index index) {
  check_query(q);
  return CatalogAccess::read(catalog, [&](Connection& db) {
    SqlParams params;
    const std::string sql = viewport_sql(
        db.dialect(), index,
        "t.id, t.image_id, t.frame_index, t.label, t.bbox_x0, t.bbox_y0, t.bbox_x1, t.bbox_y1, t.tag_id, t.parent_id, "
        "t.mask_blob, t.features",
        "objects", "objects_rtree", "", q, params);
    Rows r = db.query(sql, params);
    ObjectPage page;
    page.truncated = static_cast<std::int64_t>(r.size()) > q.limit;
    const size_t n = std::min(r.size(), static_cast<size_t>(q.limit));
    page.objects.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      ObjectHit o;
      o.id = r.i64(i, 0);
      o.image_id = r.i64(i, 1);
      o.frame_index = r.i64(i, 2);
      o.label = r.opt_i64(i, 3).value_or(0);
      o.bbox_x0 = r.i64(i, 4);
      o.bbox_y0 = r.i64(i, 5);
      o.bbox_x1 = r.i64(i, 6);
      o.bbox_y1 = r.i64(i, 7);
      o.tag_id = r.opt_i64(i, 8);
      o.parent_id = r.opt_i64(i, 9);
      o.mask_blob = r.opt_text(i, 10);
      o.features = parse_json(r.opt_text(i, 11));
      page.objects.push_back(std::move(o));
    }
    std::sort(page.objects.begin(), page.objects.end(),
              [](const ObjectHit& a, const ObjectHit& b) { return a.id < b.id; });
    return page;
  });
}

}  // namespace

AnnotationPage AnnotationStore::in_viewport(const ViewportQuery& q) {
  check_query(q);
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    SqlParams params;
    const std::string ids = viewport_sql(db.dialect(), Index::spatial, "t.id", "annotations", "annotations_rtree",
                                         "t.deleted = 0", q, params);
    Rows r = db.query(fmt::format("{} WHERE a.id IN ({}) ORDER BY a.id", kAnnotationSelect, ids), params);
    AnnotationPage page;
    page.truncated = static_cast<std::int64_t>(r.size()) > q.limit;
    const size_t n = std::min(r.size(), static_cast<size_t>(q.limit));
    page.annotations.reserve(n);
    for (size_t i = 0; i < n; ++i) page.annotations.push_back(annotation_from(r, i));
    return page;
  });
}

ObjectPage AnnotationStore::objects_in_viewport(const ViewportQuery& q) {
  return select_objects(catalog_, q, Index::spatial);
}

ObjectPage AnnotationStore::objects_in_viewport_by_scan(const ViewportQuery& q) {
  return select_objects(catalog_, q, Index::scan);
}

}  // namespace tessera::catalog
