// Annotators benchmark (scripts/bench_annotators.sh).
//
//   tessera_bench_annotators concurrent --workdir DIR [--db URL] [--clients 100] [--images 25] [--seconds 30]
//     Clients annotate at once, several per image: lock -> read -> write (count + 1 in the annotation's
//     attributes, If-Match on the version read) -> release, for the given time. First in-process through
//     app::Annotations (the anchor: the same operations without HTTP), then over HTTP against `tessera serve`
//     on a loopback port. After each phase the stored counts must equal the successful writes (lost updates
//     are counted, not assumed); 5xx answers and transport errors are counted. Prints request and cycle
//     latency percentiles and the HTTP / in-process ratios.
//   tessera_bench_annotators viewport ...   see annotators_viewport.cpp
//   tessera_bench_annotators paging ...     see annotators_paging.cpp
//
// Output: human-readable lines plus one "key=value ..." line per phase for the script.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "annotators_common.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/core/error.hpp"

namespace tessera::bench {

int run_viewport(int argc, char** argv);  // annotators_viewport.cpp
int run_paging(int argc, char** argv);    // annotators_paging.cpp

namespace {

using nlohmann::json;

struct Target {
  catalog::Id image = 0;
  catalog::Id annotation = 0;
  catalog::ImageRecord record;  // the image, as the server's access check reads it
};

// What one client saw; merged after the run.
enum Step { kLock, kRead, kWrite, kRelease, kSteps };
constexpr const char* kStepNames[kSteps] = {"lock", "read", "write", "release"};

struct ClientTally {
  std::vector<double> request_ms;
  std::vector<double> step_ms[kSteps];  // the same requests by step
  std::vector<double> cycle_ms;
  std::map<catalog::Id, std::int64_t> writes;  // successful writes per annotation
  std::int64_t cycles = 0;
  std::int64_t lock_busy = 0;  // the image was locked by another client: expected, retried
  std::int64_t stale = 0;      // 409 on the write: must not happen while holding the lock
  std::int64_t locked = 0;     // 423 on the write: must not happen while holding the lock
  std::int64_t server_errors = 0;
  std::int64_t transport_errors = 0;
  std::int64_t other = 0;  // any other unexpected status
  std::string first_transport_error;
  std::int64_t connect_retries = 0;  // before the measured phase (see http_client)
};

struct PhaseResult {
  ClientTally total;
  double seconds = 0;
  std::int64_t lost_updates = 0;
};

void merge(ClientTally& into, const ClientTally& from) {
  into.request_ms.insert(into.request_ms.end(), from.request_ms.begin(), from.request_ms.end());
  for (int k = 0; k < kSteps; ++k) {
    into.step_ms[k].insert(into.step_ms[k].end(), from.step_ms[k].begin(), from.step_ms[k].end());
  }
  into.cycle_ms.insert(into.cycle_ms.end(), from.cycle_ms.begin(), from.cycle_ms.end());
  for (const auto& [id, n] : from.writes) into.writes[id] += n;
  into.cycles += from.cycles;
  into.lock_busy += from.lock_busy;
  into.stale += from.stale;
  into.locked += from.locked;
  into.server_errors += from.server_errors;
  into.transport_errors += from.transport_errors;
  into.other += from.other;
  into.connect_retries += from.connect_retries;
  if (into.first_transport_error.empty()) into.first_transport_error = from.first_transport_error;
}

// A refused lock means a colleague is editing the image: try again a little later (as an annotator's client
// would), with jitter so the waiting clients do not retry in step.
void back_off(std::mt19937& random) {
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(5000, 20000)(random)));
}

// Think time between an annotator's cycles, in ms (0: none, the saturating run). Each pause is drawn uniformly
// from [0.5, 1.5] x this, and each client starts after one such pause, so the clients do not move in step
// (started together, the first 100 cycles arrive as one burst that no steady load would produce).
int g_think_ms = 0;

void think(std::mt19937& random) {
  if (g_think_ms <= 0) return;
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(500 * g_think_ms, 1500 * g_think_ms)(random)));
}

std::map<catalog::Id, std::int64_t> stored_counts(app::Annotations& annotations, const std::vector<Target>& targets) {
  std::map<catalog::Id, std::int64_t> out;
  for (const Target& t : targets) out[t.annotation] = annotations.get(t.annotation).state.attributes.value("count", 0);
  return out;
}

// Runs `client(index, tally, ready, deadline)` on `clients` threads. Each client prepares (an HTTP client
// connects) and calls ready(); the clock starts when all are ready, so the phase measures annotating, not a
// burst of connections. Then counts lost updates: each annotation's stored count must have grown by exactly
// the writes that succeeded.
template <typename Client>
PhaseResult run_phase(app::Annotations& annotations, const std::vector<Target>& targets, int clients, double seconds,
                      Client&& client) {
  const auto before = stored_counts(annotations, targets);
  std::vector<ClientTally> tallies(static_cast<size_t>(clients));
  std::latch prepared(clients);
  std::latch go(1);
  Clock::time_point start, deadline;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      client(i, tallies[static_cast<size_t>(i)], [&] {
        prepared.count_down();
        go.wait();
        return deadline;
      });
    });
  }
  prepared.wait();
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go.count_down();
  for (auto& t : threads) t.join();
  PhaseResult result;
  result.seconds = ms_since(start) / 1000.0;
  for (const auto& tally : tallies) merge(result.total, tally);
  const auto after = stored_counts(annotations, targets);
  for (const Target& t : targets) {
    const std::int64_t grew = after.at(t.annotation) - before.at(t.annotation);
    const auto it = result.total.writes.find(t.annotation);
    const std::int64_t written = it == result.total.writes.end() ? 0 : it->second;
    result.lost_updates += std::abs(written - grew);
  }
  return result;
}

void record(ClientTally& tally, Step step, double ms) {
  tally.request_ms.push_back(ms);
  tally.step_ms[step].push_back(ms);
}

// Runs fn, recording how long it took as one request of this step.
template <typename Fn>
auto measure(ClientTally& tally, Step step, Fn&& fn) {
  const auto t = Clock::now();
  auto result = fn();
  record(tally, step, ms_since(t));
  return result;
}

template <typename Ready>
void in_process_client(app::Annotations& annotations, const BenchUser& user, const Target& target, ClientTally& tally,
                       Ready&& ready) {
  const catalog::Actor actor{user.id, user.name};
  const Clock::time_point deadline = ready();
  std::mt19937 start_random(static_cast<unsigned>(user.id) * 7919u);
  think(start_random);  // paced: annotators start out of step, as people do, not in one burst
  std::mt19937 random(static_cast<unsigned>(user.id));
  while (Clock::now() < deadline) {
    const auto cycle = Clock::now();
    const catalog::LockResult lock =
        measure(tally, kLock, [&] { return annotations.acquire_lock(target.image, actor, 30); });
    if (lock.status == catalog::LockStatus::held_by_other) {
      ++tally.lock_busy;
      back_off(random);
      continue;
    }
    const catalog::Annotation current = measure(tally, kRead, [&] { return annotations.get(target.annotation); });
    const std::int64_t count = current.state.attributes.value("count", 0);
    const catalog::EditResult write = measure(tally, kWrite, [&] {
      return annotations.update(current, target.record, actor, current.version,
                                json{{"attributes", {{"count", count + 1}}}});
    });
    if (write.status == catalog::EditStatus::applied) ++tally.writes[target.annotation];
    if (write.status == catalog::EditStatus::stale) ++tally.stale;
    if (write.status == catalog::EditStatus::locked) ++tally.locked;
    measure(tally, kRelease, [&] { return annotations.release_lock(target.image, actor, lock.lease->token); });
    tally.cycle_ms.push_back(ms_since(cycle));
    ++tally.cycles;
    think(random);
  }
}

// One HTTP request, timed; transport failures and 5xx answers are counted.
template <typename Send>
httplib::Result timed(ClientTally& tally, Step step, Send&& send) {
  const auto t = Clock::now();
  httplib::Result r = send();
  record(tally, step, ms_since(t));
  if (!r) {
    if (tally.transport_errors++ == 0) {
      tally.first_transport_error =
          fmt::format("{} on {} after {:.1f} ms", httplib::to_string(r.error()), kStepNames[step], ms_since(t));
    }
  } else if (r->status >= 500) {
    ++tally.server_errors;
  }
  return r;
}

template <typename Ready>
void http_client(int port, const BenchUser& user, const Target& target, ClientTally& tally, Ready&& ready) {
  httplib::Client http("127.0.0.1", port);
  http.set_keep_alive(true);
  // Without it the client's header and body writes meet Nagle and delayed ACKs: 40 ms per POST/PATCH.
  http.set_tcp_nodelay(true);
  http.set_read_timeout(30, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + user.token}};
  const std::string lock_path = fmt::format("/api/v1/images/{}/lock", target.image);
  const std::string annotation_path = fmt::format("/api/v1/annotations/{}", target.annotation);
  const std::string lock_body = json{{"ttl_seconds", 30}}.dump();
  std::mt19937 random(static_cast<unsigned>(user.id));
  // Connect (and authenticate) before the clock starts, so the phase measures annotating rather than a burst
  // of 100 connects; a refused connect is retried, as browsers do, and the retries are reported.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (auto me = http.Get("/api/v1/me", auth); me && me->status == 200) break;
    ++tally.connect_retries;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const Clock::time_point deadline = ready();
  std::mt19937 start_random(static_cast<unsigned>(user.id) * 7919u);
  think(start_random);  // paced: annotators start out of step, as people do, not in one burst
  while (Clock::now() < deadline) {
    const auto cycle = Clock::now();
    auto lock = timed(tally, kLock, [&] { return http.Post(lock_path, auth, lock_body, "application/json"); });
    if (!lock || lock->status >= 500) continue;
    if (lock->status == 409) {
      ++tally.lock_busy;
      back_off(random);
      continue;
    }
    if (lock->status != 201 && lock->status != 200) {
      ++tally.other;
      continue;
    }
    const std::string lock_token = json::parse(lock->body).at("token");
    auto read = timed(tally, kRead, [&] { return http.Get(annotation_path, auth); });
    if (read && read->status == 200) {
      const json current = json::parse(read->body);
      const std::int64_t count = current["attributes"].value("count", 0);
      httplib::Headers write_headers = auth;
      write_headers.emplace("If-Match", fmt::format("\"{}\"", current["version"].get<std::int64_t>()));
      const std::string patch = json{{"attributes", {{"count", count + 1}}}}.dump();
      auto write =
          timed(tally, kWrite, [&] { return http.Patch(annotation_path, write_headers, patch, "application/json"); });
      if (write && write->status == 200) {
        ++tally.writes[target.annotation];
      } else if (write && write->status == 409) {
        ++tally.stale;
      } else if (write && write->status == 423) {
        ++tally.locked;
      } else if (write && write->status < 500) {
        ++tally.other;
      }
    } else if (read && read->status < 500) {
      ++tally.other;
    }
    httplib::Headers release_headers = auth;
    release_headers.emplace("X-Lock-Token", lock_token);
    auto release = timed(tally, kRelease, [&] { return http.Delete(lock_path, release_headers); });
    if (release && release->status != 200 && release->status < 500) ++tally.other;
    tally.cycle_ms.push_back(ms_since(cycle));
    ++tally.cycles;
    think(random);
  }
}

void report(const std::string& phase, const std::string& backend, const PhaseResult& r) {
  const ClientTally& t = r.total;
  std::int64_t writes = 0;
  for (const auto& [id, n] : t.writes) writes += n;
  fmt::print(
      "  {:<12} {:>8} cycles {:>8.1f}/s  request p50 {:6.2f} ms p99 {:6.2f} ms  cycle p50 {:6.2f} ms p99 {:6.2f} ms"
      "  busy {} stale {} locked {} 5xx {} transport {} other {} lost {}\n",
      phase, t.cycles, t.cycles / r.seconds, percentile(t.request_ms, 50), percentile(t.request_ms, 99),
      percentile(t.cycle_ms, 50), percentile(t.cycle_ms, 99), t.lock_busy, t.stale, t.locked, t.server_errors,
      t.transport_errors, t.other, r.lost_updates);
  fmt::print(
      "result phase={} backend={} cycles={} writes={} cycles_per_s={:.1f} requests={} p50_ms={:.3f} p99_ms={:.3f} "
      "cycle_p50_ms={:.3f} cycle_p99_ms={:.3f} lock_busy={} stale={} locked={} errors_5xx={} transport_errors={} "
      "other={} lost_updates={} connect_retries={}\n",
      phase, backend, t.cycles, writes, t.cycles / r.seconds, t.request_ms.size(), percentile(t.request_ms, 50),
      percentile(t.request_ms, 99), percentile(t.cycle_ms, 50), percentile(t.cycle_ms, 99), t.lock_busy, t.stale,
      t.locked, t.server_errors, t.transport_errors, t.other, r.lost_updates, t.connect_retries);
  fmt::print("  {:<12}", "");
  for (int k = 0; k < kSteps; ++k) {
    fmt::print(" {} p50 {:.2f} p99 {:.2f} ms;", kStepNames[k], percentile(t.step_ms[k], 50),
               percentile(t.step_ms[k], 99));
  }
  fmt::print("\n");
  if (t.connect_retries > 0) fmt::print("  connections refused before the phase and retried: {}\n", t.connect_retries);
  if (t.transport_errors > 0) fmt::print("  first transport error: {}\n", t.first_transport_error);
}

int run_concurrent(int argc, char** argv) {
  CLI::App cli("concurrent annotators: lock -> read -> write -> release");
  std::string workdir, db;
  int clients = 100, image_count = 25;
  double seconds = 30;
  cli.add_option("--workdir", workdir, "empty folder for the workspace")->required();
  cli.add_option("--db", db, "PostgreSQL URL (default: SQLite in the workspace)");
  cli.add_option("--clients", clients)->check(CLI::Range(1, 1000));
  cli.add_option("--images", image_count, "images shared by the clients (clients / images per image)")
      ->check(CLI::Range(1, 1000));
  cli.add_option("--seconds", seconds, "length of each phase")->check(CLI::Range(0.1, 3600.0));
  cli.add_option("--think-ms", g_think_ms, "mean pause of each annotator between cycles (0 = none)")
      ->check(CLI::Range(0, 60000));
  CLI11_PARSE(cli, argc, argv);

  BenchWorkspace bench(workdir, db);
  const std::vector<BenchUser> users = bench.add_editors(clients);
  const std::vector<catalog::Id> images = bench.add_images(image_count, 2048, 2048);
  app::Annotations annotations(bench.workspace());
  std::vector<Target> targets;
  for (catalog::Id image_id : images) {
    const catalog::ImageRecord image = bench.workspace().catalog().get_image(image_id);
    const json polygon = {{"kind", "polygon"},
                          {"geometry", {{"points", {{100, 100}, {400, 120}, {250, 380}}}}},
                          {"attributes", {{"count", 0}}}};
    const catalog::EditResult r = annotations.create(image, {users[0].id, users[0].name}, polygon);
    targets.push_back({image_id, r.annotation->id, image});
  }
  const std::string backend = bench.backend();
  fmt::print("annotators benchmark: {} clients on {} images ({} per image), {} s per phase, {} catalog\n", clients,
             image_count, (clients + image_count - 1) / image_count, seconds, backend);
  auto target_of = [&](int i) { return targets[static_cast<size_t>(i) % targets.size()]; };

  const PhaseResult local = run_phase(annotations, targets, clients, seconds, [&](int i, ClientTally& t, auto ready) {
    in_process_client(annotations, users[static_cast<size_t>(i)], target_of(i), t, ready);
  });
  report("in-process", backend, local);

  PhaseResult http;
  {
    BenchServer server(bench.workspace());
    http = run_phase(annotations, targets, clients, seconds, [&](int i, ClientTally& t, auto ready) {
      http_client(server.port(), users[static_cast<size_t>(i)], target_of(i), t, ready);
    });
  }
  report("http", backend, http);
  const double local_rate = local.total.cycles / local.seconds;
  const double http_rate = http.total.cycles / http.seconds;
  fmt::print("  http / in-process: request p99 {:.2f}x, cycles/s {:.2f}x (goal: p99 < 50 ms, 0 lost, 0 5xx)\n",
             percentile(http.total.request_ms, 99) / std::max(1e-9, percentile(local.total.request_ms, 99)),
             http_rate / std::max(1e-9, local_rate));
  return http.lost_updates == 0 && local.lost_updates == 0 ? 0 : 3;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "concurrent") return tessera::bench::run_concurrent(argc - 1, argv + 1);
    if (mode == "viewport") return tessera::bench::run_viewport(argc - 1, argv + 1);
    if (mode == "paging") return tessera::bench::run_paging(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera_bench_annotators: {}\n", e.what());
    return 1;
  }
  fmt::print(stderr, "usage: tessera_bench_annotators concurrent|viewport|paging --workdir DIR [--db URL] ... (--help)\n");
  return 2;
}
