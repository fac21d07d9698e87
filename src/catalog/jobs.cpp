#include "tessera/catalog/jobs.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "catalog/access.hpp"
#include "catalog/db.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using json = nlohmann::json;

constexpr std::array<const char*, 5> kStateNames = {"queued", "running", "succeeded", "failed", "cancelled"};

constexpr const char* kJobColumns =
    "j.id, j.project_id, (SELECT p.name FROM projects p WHERE p.id = j.project_id), j.kind, j.params, j.state, "
    "j.progress, j.message, j.result, j.created_by, j.created_at, j.started_at, j.finished_at, j.worker, "
    "j.heartbeat_at, j.attempts, j.cancel_requested";

Job job_from(const Rows& r, size_t row) {
  Job job;
  job.id = r.i64(row, 0);
  job.project_id = r.opt_i64(row, 1);
  job.project = r.opt_text(row, 2);
  job.kind = r.text(row, 3);
  job.params = parse_json(r.opt_text(row, 4));
  job.state = job_state_from_string(r.text(row, 5));
  job.progress = r.f64(row, 6);
  job.message = r.opt_text(row, 7);
  job.result = r.is_null(row, 8) ? json() : parse_json(r.opt_text(row, 8));
  job.created_by = r.opt_i64(row, 9);
  job.created_at = r.text(row, 10);
  job.started_at = r.opt_text(row, 11);
  job.finished_at = r.opt_text(row, 12);
  job.worker = r.opt_text(row, 13);
  job.heartbeat_at = r.opt_text(row, 14);
  job.attempts = static_cast<int>(r.i64(row, 15));
  job.cancel_requested = r.i64(row, 16) != 0;
  return job;
}

std::optional<Job> select_job(Connection& db, Id id, bool lock_row = false) {
  std::string sql = fmt::format("SELECT {} FROM jobs j WHERE j.id = ?", kJobColumns);
  // PostgreSQL: hold the row against a concurrent claim or reclaim until the transaction ends (SQLite's
  // write transaction is exclusive already).
  if (lock_row && db.dialect() == Dialect::postgresql) sql += " FOR UPDATE OF j";
  Rows r = db.query(sql, {id});
  if (r.empty()) return std::nullopt;
  return job_from(r, 0);
}

void add_job_event(Connection& db, const Job& job, const std::string& kind, json payload,
                   const std::optional<std::string>& actor = std::nullopt) {
  payload["job"] = job.id;
  payload["kind"] = job.kind;
  order_event_ids(db);
  db.execute(fmt::format("INSERT INTO events (project_id, at, kind, actor, subject_type, subject_id, payload) "
                         "VALUES (?, ?, ?, ?, 'job', ?, {})",
                         json_param(db.dialect())),
             {opt(job.project_id), utc_now_iso(), kind, opt(actor), job.id, payload.dump()});
}

Job insert_job(Connection& db, const NewJob& job) {
  check_name("job kind", job.kind);
  if (!job.params.is_object())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("job params must be a JSON object, got {}", job.params.type_name()));
  const Id id = db.query(fmt::format("INSERT INTO jobs (project_id, kind, params, state, created_by, created_at) "
                                     "VALUES (?, ?, {}, 'queued', ?, ?) RETURNING id",
                                     json_param(db.dialect())),
                         {opt(job.project_id), job.kind, job.params.dump(), opt(job.created_by), utc_now_iso()})
                    .i64(0, 0);
  Job stored = *select_job(db, id);
  add_job_event(db, stored, "job.queued", json::object(), job.actor);
  return stored;
}

// The claim fence every update of a claimed job carries.
constexpr const char* kClaimed = "id = ? AND state = 'running' AND worker = ? AND attempts = ?";

}  // namespace

std::string to_string(JobState state) { return kStateNames[static_cast<size_t>(state)]; }

JobState job_state_from_string(const std::string& text) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (text == kStateNames[i]) return static_cast<JobState>(i);
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("job state '{}' is not one of queued, running, succeeded, failed, cancelled", text));
}

Job JobStore::enqueue(const NewJob& job) {
  return CatalogAccess::write(catalog_, [&](Connection& db) { return insert_job(db, job); });
}

std::vector<Job> JobStore::enqueue_many(const std::vector<NewJob>& jobs) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    std::vector<Job> out;
    out.reserve(jobs.size());
    for (const NewJob& job : jobs) out.push_back(insert_job(db, job));
    return out;
  });
}

std::optional<Job> JobStore::find(Id id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) { return select_job(db, id); });
}

Job JobStore::get(Id id) {
  auto job = find(id);
  if (!job) throw Error(ErrorCode::not_found, fmt::format("no job {}", id));
  return *job;
}

std::vector<Job> JobStore::list(const JobQuery& query) {
  std::string sql = fmt::format("SELECT {} FROM jobs j WHERE 1=1", kJobColumns);
  SqlParams params;
  if (query.project_id) {
    sql += " AND j.project_id = ?";
    params.emplace_back(*query.project_id);
  }
  if (query.state) {
    sql += " AND j.state = ?";
    params.emplace_back(to_string(*query.state));
  }
  if (query.before_id > 0) {
    sql += " AND j.id < ?";
    params.emplace_back(query.before_id);
  }
  sql += " ORDER BY j.id DESC";
  if (query.limit >= 0) {
    sql += " LIMIT ?";
    params.emplace_back(query.limit);
  }
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(sql, params);
    std::vector<Job> out;
    out.reserve(r.size());
    for (size_t i = 0; i < r.size(); ++i) out.push_back(job_from(r, i));
    return out;
  });
}

std::int64_t JobStore::count(std::optional<Id> project_id, std::optional<JobState> state) {
  std::string sql = "SELECT COUNT(*) FROM jobs WHERE 1=1";
  SqlParams params;
  if (project_id) {
    sql += " AND project_id = ?";
    params.emplace_back(*project_id);
  }
  if (state) {
    sql += " AND state = ?";
    params.emplace_back(to_string(*state));
  }
  return CatalogAccess::read(catalog_, [&](Connection& db) { return db.query(sql, params).i64(0, 0); });
}

bool JobStore::has_queued() {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    return !db.query("SELECT id FROM jobs WHERE state = 'queued' LIMIT 1").empty();
  });
}

std::optional<Job> JobStore::try_claim(const std::string& worker) {
  check_name("worker", worker);
  return CatalogAccess::write(catalog_, [&](Connection& db) -> std::optional<Job> {
    const std::string oldest = std::string("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1") +
                               (db.dialect() == Dialect::postgresql ? " FOR UPDATE SKIP LOCKED" : "");
    const std::string now = utc_now_iso();
    Rows claimed = db.query(
        "UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1, started_at = ?, "
        "heartbeat_at = ?, progress = 0, message = NULL WHERE id = (" +
            oldest + ") RETURNING id",
        {worker, now, now});
    if (claimed.empty()) return std::nullopt;
    Job job = *select_job(db, claimed.i64(0, 0));
    add_job_event(db, job, "job.started", {{"worker", worker}, {"attempt", job.attempts}});
    return job;
  });
}

ClaimStatus JobStore::heartbeat(Id id, const std::string& worker, int attempt) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    Rows r = db.query(fmt::format("UPDATE jobs SET heartbeat_at = ? WHERE {} RETURNING cancel_requested", kClaimed),
                      {utc_now_iso(), id, worker, std::int64_t{attempt}});
    return r.empty() ? ClaimStatus{} : ClaimStatus{true, r.i64(0, 0) != 0};
  });
}

ClaimStatus JobStore::report_progress(Id id, const std::string& worker, int attempt, double fraction,
                                      const std::optional<std::string>& message, bool emit_event) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    Rows r = db.query(fmt::format("UPDATE jobs SET heartbeat_at = ?, progress = ?, message = ? WHERE {} "
                                  "RETURNING cancel_requested",
                                  kClaimed),
                      {utc_now_iso(), fraction, opt(message), id, worker, std::int64_t{attempt}});
    if (r.empty()) return ClaimStatus{};
    if (emit_event) {
      json payload = {{"progress", fraction}, {"worker", worker}};
      if (message) payload["message"] = *message;
      add_job_event(db, *select_job(db, id), "job.progress", payload);
    }
    return ClaimStatus{true, r.i64(0, 0) != 0};
  });
}

bool JobStore::finish(Id id, const std::string& worker, int attempt, JobState outcome, const json& result,
                      const std::optional<std::string>& message) {
  if (outcome != JobState::succeeded && outcome != JobState::failed && outcome != JobState::cancelled)
    throw Error(ErrorCode::invalid_argument, fmt::format("a job cannot finish '{}'", to_string(outcome)));
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    const std::string now = utc_now_iso();
    const bool succeeded = outcome == JobState::succeeded;
    const std::int64_t changed = db.execute(
        fmt::format("UPDATE jobs SET state = ?, result = {}, message = ?, finished_at = ?, heartbeat_at = ?, "
                    "progress = CASE WHEN ? = 1 THEN 1 ELSE progress END WHERE {}",
                    json_param(db.dialect()), kClaimed),
        {to_string(outcome), succeeded && !result.is_null() ? SqlValue(result.dump()) : SqlValue(nullptr), opt(message),
         now, now, std::int64_t{succeeded ? 1 : 0}, id, worker, std::int64_t{attempt}});
    if (changed == 0) return false;
    json payload = {{"worker", worker}, {"attempt", attempt}};
    if (message) payload["message"] = *message;
    add_job_event(db, *select_job(db, id), "job." + to_string(outcome), payload);
    return true;
  });
}

bool JobStore::release(Id id, const std::string& worker, int attempt, const std::string& reason) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    const std::int64_t changed =
        db.execute(fmt::format("UPDATE jobs SET state = 'queued', worker = NULL, heartbeat_at = NULL, "
                               "attempts = attempts - 1, message = ? WHERE {}",
                               kClaimed),
                   {reason, id, worker, std::int64_t{attempt}});
    if (changed == 0) return false;
    add_job_event(db, *select_job(db, id), "job.requeued", {{"worker", worker}, {"reason", reason}});
    return true;
  });
}

Job JobStore::request_cancel(Id id, const std::optional<std::string>& actor) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    auto job = select_job(db, id, /*lock_row=*/true);
    if (!job) throw Error(ErrorCode::not_found, fmt::format("no job {}", id));
    if (job->is_finished())
      throw Error(ErrorCode::conflict, fmt::format("job {} already finished ({})", id, to_string(job->state)),
                  {{"state", to_string(job->state)}});
    if (job->state == JobState::queued) {
      const std::string now = utc_now_iso();
      db.execute("UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ?, message = ? WHERE id = ?",
                 {now, std::string("cancelled before it started"), id});
      Job cancelled = *select_job(db, id);
      add_job_event(db, cancelled, "job.cancelled", {{"message", "cancelled before it started"}}, actor);
      return cancelled;
    }
    db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", {id});
    Job running = *select_job(db, id);
    add_job_event(db, running, "job.cancel_requested", {{"worker", running.worker.value_or("")}}, actor);
    return running;
  });
}

ReclaimResult JobStore::reclaim_stale(double stale_after_s, int max_attempts) {
  const std::string cutoff = utc_iso_in(-stale_after_s);
  const bool any_stale = CatalogAccess::read(catalog_, [&](Connection& db) {
    return !db.query("SELECT id FROM jobs WHERE state = 'running' AND heartbeat_at < ? LIMIT 1", {cutoff}).empty();
  });
  if (!any_stale) return {};
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    ReclaimResult out;
    const std::string stale =
        std::string("SELECT id FROM jobs WHERE state = 'running' AND heartbeat_at < ? ORDER BY id") +
        (db.dialect() == Dialect::postgresql ? " FOR UPDATE SKIP LOCKED" : "");
    Rows r = db.query(stale, {cutoff});
    const std::string now = utc_now_iso();
    for (size_t i = 0; i < r.size(); ++i) {
      const Job job = *select_job(db, r.i64(i, 0));
      const std::string why = fmt::format("worker {} stopped heartbeating (last {}, attempt {})",
                                          job.worker.value_or("?"), job.heartbeat_at.value_or("never"), job.attempts);
      const SqlParams fence{job.id, job.worker.value_or(""), std::int64_t{job.attempts}};
      auto update = [&](const std::string& set, SqlParams params) {
        params.insert(params.end(), fence.begin(), fence.end());
        return db.execute(fmt::format("UPDATE jobs SET {} WHERE {}", set, kClaimed), params) > 0;
      };
      json payload = {{"worker", job.worker.value_or("")}, {"attempt", job.attempts}};
      if (job.cancel_requested) {
        const std::string message = "cancelled; " + why;
        if (!update("state = 'cancelled', finished_at = ?, message = ?", {now, message})) continue;
        payload["message"] = message;
        add_job_event(db, job, "job.cancelled", payload);
        out.cancelled.push_back(job.id);
      } else if (job.attempts >= max_attempts) {
        const std::string message = fmt::format("{}; gave up after {} attempts", why, job.attempts);
        if (!update("state = 'failed', finished_at = ?, message = ?", {now, message})) continue;
        payload["message"] = message;
        add_job_event(db, job, "job.failed", payload);
        out.failed.push_back(job.id);
      } else {
        const std::string message = "requeued: " + why;
        if (!update("state = 'queued', worker = NULL, heartbeat_at = NULL, message = ?", {message})) continue;
        payload["reason"] = why;
        add_job_event(db, job, "job.requeued", payload);
        out.requeued.push_back(job.id);
      }
    }
    return out;
  });
}

}  // namespace tessera::catalog
