// Upload benchmark client (scripts/bench_upload.sh): posts every PNG of a folder to a running `tessera serve`
// from C concurrent keep-alive clients, then pages through the project's images; prints throughput and
// latency percentiles. Counts every status so a 5xx or a lost image cannot hide in an average.
//   tessera_bench_upload_client HOST PORT TOKEN PROJECT_ID FOLDER CLIENTS

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: tessera_bench_upload_client HOST PORT TOKEN PROJECT_ID FOLDER CLIENTS\n");
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::stoi(argv[2]);
  const std::string token = argv[3];
  const std::string project = argv[4];
  const int clients = std::stoi(argv[6]);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[5])) {
    if (e.is_regular_file() && e.path().extension() == ".png") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};

  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::vector<double> latencies;
  std::map<int, int> statuses;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_read_timeout(60, 0);
      std::vector<double> mine;
      std::map<int, int> counts;
      for (size_t i = next++; i < files.size(); i = next++) {
        const std::string bytes = read_all(files[i]);
        const std::string path = fmt::format("/api/v1/projects/{}/images?name={}", project,
                                             httplib::detail::encode_query_param(files[i].filename().string() + "_" + std::to_string(i)));
        const auto t0 = std::chrono::steady_clock::now();
        auto r = client.Post(path, auth, bytes, "image/png");
        mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        ++counts[r ? r->status : -1];
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      for (auto [s, n] : counts) statuses[s] += n;
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string status_text;
  for (auto [s, n] : statuses) status_text += fmt::format(" {}x{}", n, s);
  fmt::print("upload: {} images from {} clients in {:.2f} s: {:.1f} images/s, p50 {:.1f} ms, p99 {:.1f} ms, statuses:{}\n",
             files.size(), clients, seconds, static_cast<double>(files.size()) / seconds, percentile(latencies, 0.5),
             percentile(latencies, 0.99), status_text);

  // Paging: every image of the project, 100 per page, following cursors.
  httplib::Client client(host, port);
  client.set_keep_alive(true);
  std::vector<double> pages;
  size_t listed = 0;
  std::string cursor;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = client.Get(fmt::format("/api/v1/projects/{}/images?limit=100{}", project, cursor.empty() ? "" : "&cursor=" + cursor), auth);
    pages.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!r || r->status != 200) {
      fmt::print(stderr, "listing failed: {}\n", r ? r->body : "no response");
      return 1;
    }
    auto body = nlohmann::json::parse(r->body);
    listed += body["images"].size();
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  fmt::print("listing: {} images in {} pages of 100: p50 {:.1f} ms, p99 {:.1f} ms per page\n", listed, pages.size(),
             percentile(pages, 0.5), percentile(pages, 0.99));
  const bool ok = statuses.size() == 1 && statuses.count(201) && listed == files.size();
  if (!ok) fmt::print("upload: NOT every image was created exactly once\n");
  return ok ? 0 : 1;
}
