#include "tessera/catalog/locks.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;
using ::testing::HasSubstr;

template <typename Fn>
std::string expect_error(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

template <typename Backend>
class LockStoreTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;
  using fixture::CatalogOn<Backend>::url_;
  using fixture::CatalogOn<Backend>::backend_;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab").id;
    image_ = catalog_->add_images(project_, {fixture::named_image("frame.tif", 64, 64)}).added.at(0);
    alice_ = add_user("alice");
    bob_ = add_user("bob");
    locks_ = std::make_unique<LockStore>(*catalog_);
  }

  void TearDown() override {
    locks_.reset();
    fixture::CatalogOn<Backend>::TearDown();
  }

  Actor add_user(const std::string& name) {
    const Id id =
        backend_.raw()
            ->query("INSERT INTO users (name, created_at) VALUES (?, '2026-01-01T00:00:00.000Z') RETURNING id", {name})
            .i64(0, 0);
    return Actor{id, name};
  }

  std::vector<std::string> event_kinds() {
    std::vector<std::string> out;
    for (const Event& e : catalog_->list_events(project_, 0, 1000)) {
      if (e.kind.starts_with("lock.")) out.push_back(e.kind);
    }
    return out;
  }

  LockStore& locks() { return *locks_; }

  std::unique_ptr<LockStore> locks_;
  Id project_ = 0;
  Id image_ = 0;
  Actor alice_;
  Actor bob_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(LockStoreTest, Backends, fixture::BackendNames);

TYPED_TEST(LockStoreTest, AcquireGivesATokenAndAConflictingAcquireNamesTheHolderAndExpiry) {
  LockResult mine = this->locks().acquire(this->image_, this->alice_, 60);
  ASSERT_EQ(mine.status, LockStatus::acquired);
  ASSERT_TRUE(mine.lease);
  EXPECT_EQ(mine.lease->holder, "alice");
  EXPECT_EQ(mine.lease->holder_id, this->alice_.user_id);
  EXPECT_EQ(mine.lease->token.size(), 32u);
  EXPECT_GT(mine.lease->expires_at, mine.lease->acquired_at);

  LockResult theirs = this->locks().acquire(this->image_, this->bob_, 60);
  EXPECT_EQ(theirs.status, LockStatus::held_by_other);
  ASSERT_TRUE(theirs.lease);
  EXPECT_EQ(theirs.lease->holder, "alice");
  EXPECT_EQ(theirs.lease->expires_at, mine.lease->expires_at);
  EXPECT_TRUE(theirs.lease->token.empty()) << "someone else's token must never be handed out";

  std::optional<Lease> found = this->locks().find(this->image_);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->holder, "alice");
  EXPECT_TRUE(found->token.empty());
  EXPECT_EQ(this->event_kinds(), std::vector<std::string>{"lock.acquired"});
}

TYPED_TEST(LockStoreTest, AcquiringAgainRenewsTheSameLeaseAndKeepsItsToken) {
  LockResult first = this->locks().acquire(this->image_, this->alice_, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  LockResult again = this->locks().acquire(this->image_, this->alice_, 60);
  EXPECT_EQ(again.status, LockStatus::renewed);
  EXPECT_EQ(again.lease->token, first.lease->token);
  EXPECT_GT(again.lease->expires_at, first.lease->expires_at);
  EXPECT_EQ(this->event_kinds(), std::vector<std::string>{"lock.acquired"});
}

TYPED_TEST(LockStoreTest, RenewAndReleaseNeedTheTokenOrTheHolder) {
  const Lease lease = *this->locks().acquire(this->image_, this->alice_, 5).lease;
  EXPECT_EQ(this->locks().renew(this->image_, this->bob_, "not-the-token", 60).status, LockStatus::held_by_other);
  EXPECT_EQ(this->locks().release(this->image_, this->bob_, "").status, LockStatus::held_by_other);

  LockResult by_token = this->locks().renew(this->image_, this->bob_, lease.token, 60);
  EXPECT_EQ(by_token.status, LockStatus::renewed);
  EXPECT_GT(by_token.lease->expires_at, lease.expires_at);
  EXPECT_EQ(by_token.lease->holder, "alice") << "renewing with the token does not change the holder";
  EXPECT_EQ(this->locks().renew(this->image_, this->alice_, "", 60).status, LockStatus::renewed);

  EXPECT_EQ(this->locks().release(this->image_, this->alice_, "").status, LockStatus::released);
  EXPECT_FALSE(this->locks().find(this->image_));
  EXPECT_EQ(this->locks().release(this->image_, this->alice_, lease.token).status, LockStatus::not_held);
  EXPECT_EQ(this->locks().renew(this->image_, this->alice_, lease.token, 60).status, LockStatus::not_held);
  EXPECT_EQ(this->event_kinds(), (std::vector<std::string>{"lock.acquired", "lock.released"}));
}

TYPED_TEST(LockStoreTest, AnExpiredLeaseFreesItself) {
  const Lease old = *this->locks().acquire(this->image_, this->alice_, 0.2).lease;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(this->locks().find(this->image_));
  LockResult taken = this->locks().acquire(this->image_, this->bob_, 60);
  ASSERT_EQ(taken.status, LockStatus::acquired);
  EXPECT_EQ(taken.lease->holder, "bob");
  EXPECT_NE(taken.lease->token, old.token);
  // The old holder's token no longer renews or releases anything.
  EXPECT_EQ(this->locks().renew(this->image_, this->alice_, old.token, 60).status, LockStatus::held_by_other);
  EXPECT_EQ(this->locks().release(this->image_, this->alice_, old.token).status, LockStatus::held_by_other);
  const auto events = this->catalog_->list_events(this->project_, 0, 100);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, "lock.acquired");
  EXPECT_EQ(events.back().payload.value("expired_holder", ""), "alice");
}

TYPED_TEST(LockStoreTest, TheHolderRenewsAnExpiredLeaseNobodyTookOver) {
  this->locks().acquire(this->image_, this->alice_, 0.1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(this->locks().renew(this->image_, this->alice_, "", 60).status, LockStatus::renewed);
  EXPECT_EQ(this->locks().find(this->image_)->holder, "alice");
}

TYPED_TEST(LockStoreTest, LocalActorsWithoutAUserIdAreToldApartByName) {
  const Actor cli_a{std::nullopt, "lab-laptop"};
  const Actor cli_b{std::nullopt, "scope-pc"};
  ASSERT_EQ(this->locks().acquire(this->image_, cli_a, 60).status, LockStatus::acquired);
  EXPECT_EQ(this->locks().acquire(this->image_, cli_b, 60).status, LockStatus::held_by_other);
  EXPECT_EQ(this->locks().acquire(this->image_, this->alice_, 60).status, LockStatus::held_by_other);
  EXPECT_EQ(this->locks().acquire(this->image_, cli_a, 60).status, LockStatus::renewed);
  EXPECT_EQ(this->locks().find(this->image_)->holder_id, std::nullopt);
}

TYPED_TEST(LockStoreTest, BadTtlsUnknownImagesAndNamelessActorsAreRefused) {
  for (double ttl : {0.0, -1.0, 86401.0, std::nan("")}) {
    EXPECT_THAT(
        expect_error(ErrorCode::invalid_argument, [&] { this->locks().acquire(this->image_, this->alice_, ttl); }),
        HasSubstr("ttl_seconds"));
  }
  expect_error(ErrorCode::not_found, [&] { this->locks().acquire(this->image_ + 1000, this->alice_, 60); });
  expect_error(ErrorCode::invalid_argument, [&] { this->locks().acquire(this->image_, Actor{std::nullopt, ""}, 60); });
  EXPECT_FALSE(this->locks().find(this->image_));
  EXPECT_TRUE(this->event_kinds().empty());
}

TYPED_TEST(LockStoreTest, RacingAcquiresOverSeparateConnectionsGrantOneLease) {
  // Each thread opens its own catalog (its own connection), as separate server processes would.
  constexpr int kRacers = 6;
  std::vector<Actor> racers;
  for (int i = 0; i < kRacers; ++i) racers.push_back(this->add_user(fmt::format("racer{}", i)));
  std::vector<std::unique_ptr<Catalog>> catalogs;
  for (int i = 0; i < kRacers; ++i) catalogs.push_back(Catalog::open(this->url_));
  std::atomic<int> acquired{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      LockStore store(*catalogs[i]);
      LockResult r = store.acquire(this->image_, racers[i], 60);
      (r.status == LockStatus::acquired ? acquired : refused)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(acquired.load(), 1);
  EXPECT_EQ(refused.load(), kRacers - 1);
  EXPECT_EQ(this->event_kinds(), std::vector<std::string>{"lock.acquired"});
}

}  // namespace
}  // namespace tessera::catalog
