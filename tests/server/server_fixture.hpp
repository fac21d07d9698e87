#pragma once

// A real `tessera serve` on a loopback port for each test: a fresh workspace (SQLite), four users and two
// projects, and an httplib client. Requests go over real HTTP.
//
//   project "lab":   alice owner, bob editor, carol viewer
//   project "other": mallory owner (alice, bob and carol are not members)

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/app/upload.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/catalog/users.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/server/server.hpp"

namespace tessera::server::testing {

using nlohmann::json;

class ServerFixture : public ::testing::Test {
 protected:
  // Override to change options before the server starts (e.g. run_jobs, max_body_bytes).
  virtual void configure(ServeOptions& /*options*/) {}

  void SetUp() override {
    static std::atomic<int> counter{0};
    std::mt19937_64 random{std::random_device{}()};
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("tessera_server_test_{}_{}_{:x}", ::getpid(), counter++, random() & 0xffffff);
    workspace_ = std::make_unique<app::Workspace>(app::Workspace::init(dir_, ""));
    auto& catalog = workspace_->catalog();
    catalog::UserStore users(catalog);
    lab_ = catalog.ensure_project("lab").id;
    other_ = catalog.ensure_project("other").id;
    const std::pair<const char*, std::optional<catalog::Role>> people[] = {
        {"alice", catalog::Role::owner}, {"bob", catalog::Role::editor}, {"carol", catalog::Role::viewer}, {"mallory", std::nullopt}};
    for (const auto& [name, role] : people) {
      auto user = users.create(name, "password-of-" + std::string(name));
      if (role) users.set_role(lab_, user.id, *role);
      tokens_[name] = users.issue_token(user.id, "test").token;
      ids_[name] = user.id;
    }
    users.set_role(other_, ids_["mallory"], catalog::Role::owner);

    ServeOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 32;
    configure(options);
    server_ = std::make_unique<Server>(*workspace_, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    // Ready when it answers.
    for (int i = 0; i < 200; ++i) {
      if (auto r = client().Get("/api/v1"); r && r->status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    workspace_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }

  static httplib::Headers auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }
  const std::string& token(const std::string& who) { return tokens_.at(who); }

  httplib::Result get(const std::string& path, const std::string& who = "alice") {
    return client().Get(path, auth(who.empty() ? "" : token(who)));
  }
  httplib::Result post(const std::string& path, const json& body, const std::string& who = "alice") {
    return client().Post(path, auth(who.empty() ? "" : token(who)), body.dump(), "application/json");
  }
  httplib::Result put(const std::string& path, const json& body, const std::string& who = "alice") {
    return client().Put(path, auth(who.empty() ? "" : token(who)), body.dump(), "application/json");
  }
  httplib::Result patch(const std::string& path, const json& body, const std::string& who = "alice") {
    return client().Patch(path, auth(who.empty() ? "" : token(who)), body.dump(), "application/json");
  }
  httplib::Result del(const std::string& path, const std::string& who = "alice") {
    return client().Delete(path, auth(who.empty() ? "" : token(who)));
  }
  static json body(const httplib::Result& r) { return r ? json::parse(r->body, nullptr, false) : json(); }

  // A PNG the test owns: a gradient with a bright disk, different for each seed.
  static std::string png(int seed, int width = 64, int height = 48, int depth = CV_8U) {
    cv::Mat m(height, width, depth);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const double v = (x * 3 + y * 2 + seed * 17) % 200 + ((x - width / 2) * (x - width / 2) + (y - height / 2) * (y - height / 2) < 100 ? 50 : 0);
        if (depth == CV_8U) m.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(v);
        else m.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>(v * 250);
      }
    }
    return image::encode(m, ".png");
  }

  // Adds an image to a project directly (not over HTTP), for tests about other resources.
  catalog::ImageRecord add_image(catalog::Id project, int seed, std::optional<std::string> series = std::nullopt,
                                 std::optional<std::int64_t> frame = std::nullopt) {
    app::Upload upload;
    upload.name = fmt::format("img_{}.png", seed);
    upload.bytes = png(seed);
    upload.series = series;
    upload.frame_index = frame;
    return app::upload_image(*workspace_, project, upload).record;
  }

  // The job once it has finished (the server's in-process runner runs it), or as it stands after a minute:
  // the caller asserts its state, so a job that hangs fails the test instead of hanging it.
  catalog::Job wait_for_job(catalog::Id id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      const catalog::Job job = catalog::JobStore(workspace().catalog()).get(id);
      if (job.is_finished() || std::chrono::steady_clock::now() > deadline) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  app::Workspace& workspace() { return *workspace_; }
  int port() const { return port_; }
  catalog::Id lab() const { return lab_; }
  catalog::Id other() const { return other_; }
  catalog::Id user_id(const std::string& who) { return ids_.at(who); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<app::Workspace> workspace_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  catalog::Id lab_ = 0, other_ = 0;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, catalog::Id> ids_;
};

}  // namespace tessera::server::testing
