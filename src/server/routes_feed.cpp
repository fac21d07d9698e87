#include <fmt/format.h>

#include <chrono>

#include "server/json_records.hpp"
#include "server/routes.hpp"

namespace tessera::server {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(250);        // events from other processes arrive this fast
constexpr auto kKeepAlive = std::chrono::seconds(15);         // a comment line keeps proxies from closing idle streams
constexpr auto kRecheckAccess = std::chrono::seconds(5);      // a member removed mid-stream stops receiving

std::string sse_frame(const catalog::Event& event) {
  // data is one line: JSON without newlines (dump() emits none).
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", event.id, event.kind, to_json(event).dump());
}

Id start_after(Context& ctx) {
  std::string last = ctx.req.get_header_value("Last-Event-ID");
  if (last.empty()) last = ctx.query("last_event_id").value_or("");
  if (last.empty()) return -1;  // live only
  try {
    size_t used = 0;
    const long long id = std::stoll(last, &used);
    if (used != last.size() || id < 0) throw std::invalid_argument("bad");
    return id;
  } catch (const std::exception&) {
    throw HttpError(400, "invalid_argument", fmt::format("Last-Event-ID must be an event id (got '{}')", last),
                    nlohmann::json{{"field", "Last-Event-ID"}});
  }
}

}  // namespace

void add_feed_routes(Router& router) {
  // A page of past events: ?after=ID&limit=N (ascending ids).
  router.get(R"(/api/v1/projects/(\d+)/events)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    const Id after = ctx.query_int("after", 0, 0, INT64_MAX);
    const auto limit = ctx.query_int("limit", 100, 1, 1000);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : ctx.catalog().list_events(access.project.id, after, limit)) out.push_back(to_json(e));
    ctx.send_json({{"events", out}});
  });

  // The live feed as server-sent events. Resumable: a reconnect with Last-Event-ID (EventSource sends it
  // itself) first replays everything after that id from the events table, so nothing is missed.
  router.get(R"(/api/v1/projects/(\d+)/feed)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    const Id project_id = access.project.id;
    Id after = start_after(ctx);
    if (after < 0) after = ctx.catalog().last_event_id(project_id);  // live only: from now on
    Services* services = &ctx.services;
    const catalog::User user = ctx.user();
    ctx.res.set_header("Cache-Control", "no-cache");
    ctx.res.set_header("X-Accel-Buffering", "no");
    auto last_check = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    auto cursor = std::make_shared<Id>(after);
    auto started = std::make_shared<bool>(false);
    auto generation = std::make_shared<std::uint64_t>(services->feed.generation());
    ctx.res.set_chunked_content_provider(
        "text/event-stream", [services, project_id, user, cursor, generation, last_check, last_write, started](size_t, httplib::DataSink& sink) {
          if (!*started) {
            // First call: tell EventSource how long to wait before reconnecting.
            *started = true;
            const std::string hello = "retry: 1000\n\n";
            if (!sink.write(hello.data(), hello.size())) return false;
            *last_write = std::chrono::steady_clock::now();
          }
          while (!services->stopping && sink.is_writable()) {
            const auto now = std::chrono::steady_clock::now();
            if (now - *last_check > kRecheckAccess) {
              if (!services->access.role(services->users, project_id, user.id)) {
                sink.done();
                return true;
              }
              *last_check = now;
            }
            auto events = services->workspace.catalog().list_events(project_id, *cursor, 200);
            for (const auto& e : events) {
              const std::string frame = sse_frame(e);
              if (!sink.write(frame.data(), frame.size())) return false;
              *cursor = e.id;
            }
            if (!events.empty()) {
              *last_write = std::chrono::steady_clock::now();
              return true;  // let httplib flush; it calls again
            }
            if (now - *last_write > kKeepAlive) {
              const std::string ping = ": keep-alive\n\n";
              if (!sink.write(ping.data(), ping.size())) return false;
              *last_write = now;
              return true;
            }
            *generation = services->feed.wait(*generation, kPoll);
          }
          sink.done();
          return true;
        });
  });
}

}  // namespace tessera::server
