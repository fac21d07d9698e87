// Image leases over real loopback HTTP: acquire (201), conflicts naming holder and expiry (409), renew and
// release by token or holder, expiry freeing the image, events on the feed, and refused callers.

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include "server/server_fixture.hpp"
#include "tessera/catalog/catalog.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

class LocksApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    image_ = add_image(lab(), 1);
  }

  std::string lock_path(const std::string& suffix = "") const {
    return fmt::format("/api/v1/images/{}/lock{}", image_.id, suffix);
  }

  httplib::Result release(const std::string& who, const std::string& lock_token) {
    httplib::Headers h = auth(token(who));
    if (!lock_token.empty()) h.emplace("X-Lock-Token", lock_token);
    return client().Delete(lock_path(), h);
  }

  std::vector<std::string> lock_event_kinds() {
    std::vector<std::string> out;
    for (const auto& e : workspace().catalog().list_events(lab(), 0, 1000)) {
      if (e.kind.starts_with("lock.")) out.push_back(e.kind);
    }
    return out;
  }

  catalog::ImageRecord image_;
};

TEST_F(LocksApiTest, AcquireConflictRenewAndRelease) {
  EXPECT_EQ(body(get(lock_path(), "carol"))["locked"], false);
  auto mine = post(lock_path(), json{{"ttl_seconds", 120}}, "bob");
  ASSERT_EQ(mine->status, 201) << mine->body;
  const json lease = body(mine);
  EXPECT_EQ(lease["holder"], "bob");
  EXPECT_EQ(lease["holder_id"], user_id("bob"));
  EXPECT_EQ(lease["token"].get<std::string>().size(), 32u);
  EXPECT_EQ(mine->get_header_value("Location"), lock_path());

  auto theirs = post(lock_path(), json::object(), "alice");
  ASSERT_EQ(theirs->status, 409) << theirs->body;
  EXPECT_EQ(body(theirs)["error"]["details"]["holder"], "bob");
  EXPECT_EQ(body(theirs)["error"]["details"]["expires_at"], lease["expires_at"]);
  EXPECT_THAT(body(theirs)["error"]["message"].get<std::string>(), HasSubstr("bob"));
  EXPECT_FALSE(body(theirs).dump().find(lease["token"].get<std::string>()) != std::string::npos)
      << "the holder's token must not leak";

  auto look = get(lock_path(), "carol");
  EXPECT_EQ(body(look)["holder"], "bob");
  EXPECT_EQ(body(look)["locked"], true);
  EXPECT_FALSE(body(look).contains("token"));

  // Acquiring again (a refreshed browser tab) renews and keeps the token.
  auto again = client().Post(lock_path(), auth(token("bob")), "", "application/json");
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(body(again)["token"], lease["token"]);

  auto renewed = post(lock_path("/renew"), json{{"token", lease["token"]}, {"ttl_seconds", 600}}, "bob");
  ASSERT_EQ(renewed->status, 200) << renewed->body;
  EXPECT_GT(body(renewed)["expires_at"].get<std::string>(), lease["expires_at"].get<std::string>());
  EXPECT_EQ(post(lock_path("/renew"), json{{"token", "guess"}}, "alice")->status, 409);

  EXPECT_EQ(release("alice", "guess")->status, 409);
  auto released = release("bob", lease["token"]);
  ASSERT_EQ(released->status, 200) << released->body;
  EXPECT_EQ(body(released)["locked"], false);
  EXPECT_EQ(release("bob", lease["token"])->status, 404);
  EXPECT_EQ(post(lock_path("/renew"), json::object(), "bob")->status, 404);
  EXPECT_EQ(post(lock_path(), json::object(), "alice")->status, 201);
  EXPECT_THAT(lock_event_kinds(), ::testing::ElementsAre("lock.acquired", "lock.released", "lock.acquired"));
}

TEST_F(LocksApiTest, TheHolderReleasesWithoutTheToken) {
  ASSERT_EQ(post(lock_path(), json::object(), "bob")->status, 201);
  EXPECT_EQ(release("bob", "")->status, 200);
  EXPECT_EQ(body(get(lock_path()))["locked"], false);
}

TEST_F(LocksApiTest, AnExpiredLeaseFreesTheImage) {
  ASSERT_EQ(post(lock_path(), json{{"ttl_seconds", 0.5}}, "bob")->status, 201);
  EXPECT_EQ(post(lock_path(), json::object(), "alice")->status, 409);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(body(get(lock_path()))["locked"], false);
  // Writes are no longer refused, and someone else may take the image.
  auto write = post(fmt::format("/api/v1/images/{}/annotations", image_.id),
                    json{{"kind", "point"}, {"geometry", {{"points", {{1, 1}}}}}}, "alice");
  EXPECT_EQ(write->status, 201) << write->body;
  auto taken = post(lock_path(), json::object(), "alice");
  ASSERT_EQ(taken->status, 201) << taken->body;
  EXPECT_EQ(body(taken)["holder"], "alice");
}

TEST_F(LocksApiTest, RefusedCallersAndBadInput) {
  EXPECT_EQ(client().Post(lock_path(), "", "application/json")->status, 401);
  EXPECT_EQ(post(lock_path(), json::object(), "mallory")->status, 404);
  EXPECT_EQ(get(lock_path(), "mallory")->status, 404);
  EXPECT_EQ(post(lock_path(), json::object(), "carol")->status, 403);
  EXPECT_EQ(post("/api/v1/images/999999/lock", json::object(), "alice")->status, 404);

  for (const json& bad : {json{{"ttl_seconds", 0}}, json{{"ttl_seconds", -5}}, json{{"ttl_seconds", 1e9}},
                          json{{"ttl_seconds", "long"}}}) {
    auto r = post(lock_path(), bad, "alice");
    EXPECT_EQ(r->status, 400) << bad.dump() << " -> " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], "ttl_seconds") << r->body;
  }
  EXPECT_EQ(client().Post(lock_path(), auth(token("alice")), "{\"ttl_seconds\":", "application/json")->status, 400);
  EXPECT_EQ(client().Post(lock_path(), auth(token("alice")), "ttl=5", "text/plain")->status, 415);
  auto nasty = post(lock_path("/renew"), json{{"token", "'; DROP TABLE locks; --"}}, "alice");
  EXPECT_EQ(nasty->status, 404);
  EXPECT_EQ(body(get(lock_path()))["locked"], false);
  EXPECT_TRUE(lock_event_kinds().empty());
}

}  // namespace
}  // namespace tessera::server::testing
