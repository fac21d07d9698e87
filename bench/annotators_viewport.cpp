// Viewport queries on one image holding many objects (scripts/bench_annotators.sh).
//
//   tessera_bench_annotators viewport --workdir DIR [--db URL] [--objects 1000000] [--queries 200]
//     Loads N objects (8-64 px boxes, uniformly spread at ~400 per 1024x1024 window, 10% tagged) onto one
//     image, then answers random 1024x1024 viewports (a screen at full resolution; a quarter of them with a
//     tag filter) three ways: through the spatial index in-process (AnnotationStore::objects_in_viewport),
//     over HTTP (GET /api/v1/images/{id}/objects?bbox=...), and - the anchor - the same query filtered in SQL
//     over the image's objects without the spatial index. Indexed and scanned answers are compared.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "annotators_common.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/core/error.hpp"

namespace tessera::bench {

namespace {

constexpr double kObjectsPerWindow = 400;  // per 1024 x 1024 px
constexpr double kWindow = 1024;

struct Loaded {
  catalog::Id image = 0;
  catalog::Id tag = 0;
  double side = 0;
};

// Multi-row INSERTs in one transaction: the catalog's add_objects writes one row per statement, which on
// PostgreSQL is a round trip per object.
Loaded load_objects(BenchWorkspace& bench, std::int64_t count) {
  Loaded loaded;
  loaded.side = std::ceil(kWindow * std::sqrt(static_cast<double>(count) / kObjectsPerWindow));
  const int side = static_cast<int>(loaded.side);
  loaded.image = bench.add_images(1, side, side).at(0);
  loaded.tag = bench.workspace()
                   .catalog()
                   .upsert_tags(bench.project(), {catalog::TagSpec{"dividing", "#ff00ff", "object", std::nullopt}})
                   .at(0)
                   .id;
  auto db = bench.raw();
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> position(0, loaded.side - 64);
  std::uniform_int_distribution<int> size(8, 64);
  std::uniform_int_distribution<int> percent(0, 99);
  const bool postgres = db->dialect() == catalog::Dialect::postgresql;
  constexpr std::int64_t kRowsPerStatement = 500;
  db->begin();
  for (std::int64_t done = 0; done < count;) {
    const std::int64_t rows = std::min(kRowsPerStatement, count - done);
    std::string sql =
        "INSERT INTO objects (project_id, image_id, frame_index, label, bbox_x0, bbox_y0, bbox_x1, bbox_y1, features, "
        "tag_id, created_at) VALUES ";
    catalog::SqlParams params;
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t x0 = static_cast<std::int64_t>(position(random));
      const std::int64_t y0 = static_cast<std::int64_t>(position(random));
      const int w = size(random), h = size(random);
      sql += fmt::format("{}(?, ?, 0, ?, ?, ?, ?, ?, {}, ?, '2026-01-01T00:00:00.000Z')", r ? ", " : "",
                         postgres ? "CAST(? AS jsonb)" : "?");
      params.insert(params.end(), {bench.project(), loaded.image, done + r + 1, x0, y0, x0 + w, y0 + h,
                                   fmt::format("{{\"area\": {}}}", w * h),
                                   percent(random) < 10 ? catalog::SqlValue(loaded.tag) : catalog::SqlValue(nullptr)});
    }
    db->execute(sql, params);
    done += rows;
  }
  db->commit();
  if (postgres) db->execute_script("ANALYZE objects");
  return loaded;
}

struct Timings {
  std::vector<double> ms;
  std::int64_t rows = 0;
};

// `name` is the result line's key; `label` what people read.
void report(const std::string& name, const std::string& label, const std::string& backend, std::int64_t objects,
            const Timings& t) {
  fmt::print("  {:<28} {:>5} queries  p50 {:8.2f} ms  p95 {:8.2f} ms  p99 {:8.2f} ms  {:.0f} objects/answer\n", label,
             t.ms.size(), percentile(t.ms, 50), percentile(t.ms, 95), percentile(t.ms, 99),
             t.ms.empty() ? 0.0 : static_cast<double>(t.rows) / static_cast<double>(t.ms.size()));
  fmt::print("result phase=viewport-{} backend={} objects={} queries={} p50_ms={:.3f} p95_ms={:.3f} p99_ms={:.3f}\n",
             name, backend, objects, t.ms.size(), percentile(t.ms, 50), percentile(t.ms, 95), percentile(t.ms, 99));
}

}  // namespace

int run_viewport(int argc, char** argv) {
  CLI::App cli("viewport queries on one image with many objects");
  std::string workdir, db;
  std::int64_t count = 1'000'000;
  int queries = 200;
  cli.add_option("--workdir", workdir, "empty folder for the workspace")->required();
  cli.add_option("--db", db, "PostgreSQL URL (default: SQLite in the workspace)");
  cli.add_option("--objects", count)->check(CLI::Range(std::int64_t{1000}, std::int64_t{100'000'000}));
  cli.add_option("--queries", queries)->check(CLI::Range(10, 100000));
  CLI11_PARSE(cli, argc, argv);

  BenchWorkspace bench(workdir, db);
  const auto load_start = Clock::now();
  const Loaded loaded = load_objects(bench, count);
  const std::string backend = bench.backend();
  fmt::print("viewport benchmark: {} objects on one {:.0f}x{:.0f} image, {} catalog (loaded in {:.1f} s)\n", count,
             loaded.side, loaded.side, backend, ms_since(load_start) / 1000);

  std::mt19937 random(7);
  std::uniform_real_distribution<double> corner(0, loaded.side - kWindow);
  std::vector<catalog::ViewportQuery> viewports;
  for (int i = 0; i < queries; ++i) {
    catalog::ViewportQuery q;
    q.image_id = loaded.image;
    const double x = std::floor(corner(random)), y = std::floor(corner(random));
    q.bbox = catalog::BBox{x, y, x + kWindow, y + kWindow};
    if (i % 4 == 3) q.tag_id = loaded.tag;
    q.limit = 10000;
    viewports.push_back(q);
  }

  catalog::AnnotationStore store(bench.workspace().catalog());
  Timings indexed;
  for (const auto& q : viewports) {
    const auto t = Clock::now();
    const catalog::ObjectPage page = store.objects_in_viewport(q);
    indexed.ms.push_back(ms_since(t));
    indexed.rows += static_cast<std::int64_t>(page.objects.size());
    if (page.truncated) throw Error(ErrorCode::internal, "a viewport hit the limit: raise it");
  }
  report("indexed", "indexed", backend, count, indexed);

  Timings http;
  {
    const std::vector<BenchUser> users = bench.add_editors(1);
    BenchServer server(bench.workspace());
    httplib::Client client("127.0.0.1", server.port());
    client.set_keep_alive(true);
    client.set_read_timeout(60, 0);
    const httplib::Headers auth = {{"Authorization", "Bearer " + users[0].token}};
    for (const auto& q : viewports) {
      std::string path = fmt::format("/api/v1/images/{}/objects?bbox={},{},{},{}&limit=10000", q.image_id, q.bbox->x0,
                                     q.bbox->y0, q.bbox->x1, q.bbox->y1);
      if (q.tag_id) path += fmt::format("&tag={}", *q.tag_id);
      const auto t = Clock::now();
      auto r = client.Get(path, auth);
      http.ms.push_back(ms_since(t));
      if (!r || r->status != 200) {
        throw Error(ErrorCode::internal, fmt::format("GET {} failed: {}", path, r ? r->body : "no answer"));
      }
      http.rows += static_cast<std::int64_t>(nlohmann::json::parse(r->body)["objects"].size());
    }
  }
  report("http", "http (indexed)", backend, count, http);

  // The anchor reads every object of the image per query: a tenth of the queries keep its run short.
  Timings scanned;
  std::int64_t mismatches = 0;
  const size_t anchor_queries = std::max<size_t>(10, viewports.size() / 10);
  for (size_t i = 0; i < anchor_queries; ++i) {
    const auto t = Clock::now();
    const catalog::ObjectPage page = store.objects_in_viewport_by_scan(viewports[i]);
    scanned.ms.push_back(ms_since(t));
    scanned.rows += static_cast<std::int64_t>(page.objects.size());
    const catalog::ObjectPage expected = store.objects_in_viewport(viewports[i]);
    if (page.objects.size() != expected.objects.size()) ++mismatches;
    for (size_t k = 0; k < page.objects.size() && k < expected.objects.size(); ++k) {
      if (page.objects[k].id != expected.objects[k].id) {
        ++mismatches;
        break;
      }
    }
  }
  report("scan", "scan, no index (anchor)", backend, count, scanned);
  fmt::print("  scan / indexed: p50 {:.1f}x, p95 {:.1f}x; answers that differ: {} (goal: p95 < 100 ms)\n",
             percentile(scanned.ms, 50) / std::max(1e-9, percentile(indexed.ms, 50)),
             percentile(scanned.ms, 95) / std::max(1e-9, percentile(indexed.ms, 95)), mismatches);
  fmt::print("result phase=viewport-check backend={} mismatches={}\n", backend, mismatches);
  return mismatches == 0 ? 0 : 3;
}

}  // namespace tessera::bench
