// Stopping `tessera serve`: open connections and a stop that races the start must not keep it running.
// The bounds below are liveness checks, not speed figures: each failure mode they catch lasts 30 s (the
// keep-alive timeout) or forever (a stop lost before the accept loop ran).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <future>

#include "server_fixture.hpp"

namespace tessera::server::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPromptly = std::chrono::seconds(10);

// A second server over the fixture's workspace, which the test stops itself.
class ShutdownTest : public ServerFixture {
 protected:
  static ServeOptions options() {
    ServeOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 8;
    options.run_jobs = false;
    return options;
  }

  void start() {
    server_under_test_ = std::make_unique<Server>(workspace(), options());
    port_under_test_ = server_under_test_->bind();
    runner_ = std::thread([this] { server_under_test_->run(); });
    for (int i = 0; i < 500; ++i) {
      httplib::Client probe("127.0.0.1", port_under_test_);
      if (auto r = probe.Get("/api/v1"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the server did not answer";
  }

  // Stops the server and says whether run() returned within kPromptly; if not, it is stopped again so the
  // test fails instead of hanging.
  bool stopped_promptly() {
    auto finished = std::async(std::launch::async, [this] {
      server_under_test_->stop();
      runner_.join();
    });
    if (finished.wait_for(kPromptly) == std::future_status::ready) return true;
    server_under_test_->stop();
    finished.wait();
    return false;
  }

  void TearDown() override {
    if (runner_.joinable()) {
      server_under_test_->stop();
      runner_.join();
    }
    server_under_test_.reset();
    ServerFixture::TearDown();
  }

  std::unique_ptr<Server> server_under_test_;
  int port_under_test_ = 0;
  std::thread runner_;
};

TEST_F(ShutdownTest, AnIdleKeepAliveConnectionDoesNotHoldTheStop) {
  start();
  // A raw socket, as a browser keeps one: one request answered, then the connection stays open and idle.
  const int browser = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(browser, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port_under_test_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(browser, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string request = "GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(browser, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  char answer[4096];
  const ssize_t got = ::recv(browser, answer, sizeof(answer), 0);
  ASSERT_GT(got, 0);
  ASSERT_EQ(std::string(answer, static_cast<std::size_t>(got)).rfind("HTTP/1.1 200", 0), 0u);

  const auto started = Clock::now();
  EXPECT_TRUE(stopped_promptly()) << "the idle connection kept the server for the keep-alive timeout (30 s)";
  std::printf("stop with an idle keep-alive connection: %.0f ms\n",
              std::chrono::duration<double, std::milli>(Clock::now() - started).count());
  ::close(browser);
}

TEST_F(ShutdownTest, AnOpenEventStreamEndsWhenTheServerStops) {
  start();
  std::promise<void> opened;
  std::atomic<bool> first_chunk{false};
  std::thread follower([&] {
    httplib::Client feed("127.0.0.1", port_under_test_);
    feed.set_read_timeout(60, 0);
    feed.Get(fmt::format("/api/v1/projects/{}/feed", lab()), auth(token("alice")),
             [&](const char*, size_t) {
               if (!first_chunk.exchange(true)) opened.set_value();
               return true;
             });
  });
  ASSERT_EQ(opened.get_future().wait_for(kPromptly), std::future_status::ready) << "the feed did not open";

  EXPECT_TRUE(stopped_promptly()) << "the open event stream kept the server running";
  follower.join();  // the stream ended with the server
}

TEST_F(ShutdownTest, AStopThatComesWhileRunIsStartingIsNotLost) {
  // The stop lands anywhere from before run() to after its accept loop started; before the fix, a stop
  // between the two was ignored by httplib and run() served forever.
  for (int attempt = 0; attempt < 30; ++attempt) {
    Server server(workspace(), options());
    server.bind();
    std::thread runner([&] { server.run(); });
    if (attempt % 3 == 1) std::this_thread::yield();
    if (attempt % 3 == 2) std::this_thread::sleep_for(std::chrono::microseconds(200 * attempt));
    auto finished = std::async(std::launch::async, [&] {
      server.stop();
      runner.join();
    });
    if (finished.wait_for(kPromptly) != std::future_status::ready) {
      ADD_FAILURE() << "attempt " << attempt << ": run() did not return after stop()";
      server.stop();  // the accept loop is up by now: this stop reaches it
      finished.wait();
      return;
    }
  }
}

}  // namespace
}  // namespace tessera::server::testing
