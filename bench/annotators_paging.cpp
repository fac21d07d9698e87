// Paging benchmark ("100k images must page fast"): a project of N image records (default 100,000) listed over
// HTTP 100 per page by following next_cursor, in id order and sorted by source_path, every page from the first
// to the last. Per page latency at the start and at the end of the list shows whether depth costs anything.
// Anchor, in the same run on the same catalog: the page a naive LIMIT/OFFSET query returns at the same depths
// (what a list without cursors does), timed in-process so the HTTP overhead does not flatter it.
//   tessera_bench_annotators paging --workdir DIR [--db URL] [--images 100000]
#include <chrono>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <httplib.h>

#include "annotators_common.hpp"

namespace tessera::bench {
namespace {

using json = nlohmann::json;

struct Walk {
  std::vector<double> first_ms;  // the first 50 pages
  std::vector<double> last_ms;   // the last 50 pages
  std::vector<double> all_ms;
  std::size_t listed = 0;
};

Walk walk(int port, const std::string& token, catalog::Id project, const std::string& sort) {
  httplib::Client http("127.0.0.1", port);
  http.set_keep_alive(true);
  http.set_read_timeout(60, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  Walk out;
  std::string cursor;
  for (;;) {
    const std::string path = fmt::format("/api/v1/projects/{}/images?limit=100&sort={}{}", project, sort,
                                         cursor.empty() ? "" : "&cursor=" + cursor);
    const auto t = Clock::now();
    auto r = http.Get(path, auth);
    const double ms = ms_since(t);
    if (!r || r->status != 200) throw std::runtime_error("listing failed: " + (r ? r->body : std::string("no answer")));
    const json body = json::parse(r->body);
    out.all_ms.push_back(ms);
    out.listed += body["images"].size();
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  const std::size_t edge = std::min<std::size_t>(50, out.all_ms.size());
  out.first_ms.assign(out.all_ms.begin(), out.all_ms.begin() + static_cast<std::ptrdiff_t>(edge));
  out.last_ms.assign(out.all_ms.end() - static_cast<std::ptrdiff_t>(edge), out.all_ms.end());
  return out;
}

// LIMIT/OFFSET pages at the start and the end of the list, in-process on their own connection.
std::pair<std::vector<double>, std::vector<double>> offset_pages(catalog::Connection& db, catalog::Id project,
                                                                 std::int64_t total, const std::string& order) {
  std::vector<double> first, last;
  for (int k = 0; k < 50; ++k) {
    for (const bool at_end : {false, true}) {
      const std::int64_t offset = at_end ? std::max<std::int64_t>(0, total - 100 * (k + 1)) : 100 * k;
      const auto t = Clock::now();
      const catalog::Rows rows = db.query(
          fmt::format("SELECT * FROM images WHERE project_id = ? ORDER BY {} LIMIT 100 OFFSET ?", order),
          {project, offset});
      (at_end ? last : first).push_back(ms_since(t));
      if (rows.empty()) throw std::runtime_error("offset page came back empty");
    }
  }
  return {first, last};
}

}  // namespace

int run_paging(int argc, char** argv) {
  CLI::App cli("paging through a large project over HTTP");
  std::string workdir, db;
  int image_count = 100000;
  cli.add_option("--workdir", workdir, "empty folder for the workspace")->required();
  cli.add_option("--db", db, "PostgreSQL URL (default: SQLite in the workspace)");
  cli.add_option("--images", image_count)->check(CLI::Range(200, 10000000));
  CLI11_PARSE(cli, argc, argv);

  BenchWorkspace bench(workdir, db);
  const std::vector<BenchUser> users = bench.add_editors(1);
  for (int done = 0; done < image_count; done += 10000) {
    // In slices: one statement per slice keeps memory and the parameter count bounded.
    std::vector<catalog::NewImage> images;
    for (int i = done; i < std::min(image_count, done + 10000); ++i) {
      catalog::NewImage image;
      image.blob_hash = fmt::format("{:064x}", i + 1);
      // Names whose order differs from insertion order, so the sorted walk is not the id walk.
      image.source_path = fmt::format("plate{:02d}/well{:03d}/{:07d}.tif", (i * 7919) % 97, i % 384, i);
      image.format = "tiff";
      image.width = 512;
      image.height = 512;
      image.channels = 1;
      image.pixel_type = "uint8";
      images.push_back(image);
    }
    bench.workspace().catalog().add_images(bench.project(), images);
  }
  const std::string backend = bench.backend();
  fmt::print("paging benchmark: {} images, 100 per page, {} catalog\n", image_count, backend);

  auto raw = bench.raw();
  int status = 0;
  BenchServer server(bench.workspace());
  for (const auto& [sort, order] : {std::pair<std::string, std::string>{"id", "id"},
                                    std::pair<std::string, std::string>{"source_path", "source_path, id"}}) {
    const Walk w = walk(server.port(), users[0].token, bench.project(), sort);
    const auto [offset_first, offset_last] = offset_pages(*raw, bench.project(), image_count, order);
    if (w.listed != static_cast<std::size_t>(image_count)) {
      fmt::print("  sort={}: listed {} of {} images\n", sort, w.listed, image_count);
      status = 3;
    }
    fmt::print(
        "  sort={:<12} {} pages over HTTP: first 50 p50 {:.2f} p99 {:.2f} ms, last 50 p50 {:.2f} p99 {:.2f} ms, "
        "all p99 {:.2f} ms\n",
        sort, w.all_ms.size(), percentile(w.first_ms, 50), percentile(w.first_ms, 99), percentile(w.last_ms, 50),
        percentile(w.last_ms, 99), percentile(w.all_ms, 99));
    fmt::print("  {:<17} OFFSET anchor in-process: first 50 p50 {:.2f} ms, last 50 p50 {:.2f} ms; "
               "last pages: offset / cursor over HTTP p50 {:.1f}x\n",
               "", percentile(offset_first, 50), percentile(offset_last, 50),
               percentile(offset_last, 50) / std::max(1e-9, percentile(w.last_ms, 50)));
    fmt::print(
        "result phase=paging-{} backend={} pages={} first_p50_ms={:.3f} last_p50_ms={:.3f} last_p99_ms={:.3f} "
        "all_p99_ms={:.3f} offset_last_p50_ms={:.3f}\n",
        sort, backend, w.all_ms.size(), percentile(w.first_ms, 50), percentile(w.last_ms, 50),
        percentile(w.last_ms, 99), percentile(w.all_ms, 99), percentile(offset_last, 50));
  }
  return status;
}

}  // namespace tessera::bench
