// The feed's promise: a client that resumes after the last event id it saw misses nothing. Writes run in
// parallel on PostgreSQL (row writers, other processes), so event ids must become visible in id order.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;

template <typename Backend>
class EventOrderTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab").id;
    std::vector<NewImage> images;
    for (int i = 0; i < kImages; ++i) {
      images.push_back(fixture::named_image("frame" + std::to_string(i) + ".tif", 64, 64));
    }
    image_ids_ = catalog_->add_images(project_, images).added;
  }

  static constexpr int kImages = 8;
  Id project_ = 0;
  std::vector<Id> image_ids_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(EventOrderTest, Backends, fixture::BackendNames);

// Eight writers acquire and release leases as fast as they can while a reader follows the feed the way the
// server's event stream does (ids after the last one seen). Every committed event must reach the reader.
TYPED_TEST(EventOrderTest, AFollowerOfTheFeedMissesNoEventWhileWritersRunInParallel) {
  Catalog& catalog = *this->catalog_;
  const Id project = this->project_;
  std::atomic<bool> writing{true};
  std::set<Id> seen;
  std::thread follower([&] {
    Id after = 0;
    auto follow = [&] {
      for (const Event& e : catalog.list_events(project, after, 500)) {
        seen.insert(e.id);
        after = e.id;
      }
    };
    while (writing.load()) follow();
    follow();  // whatever committed after the last poll
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < TestFixture::kImages; ++w) {
    writers.emplace_back([&, w] {
      LockStore locks(catalog);
      const Actor actor{std::nullopt, "writer" + std::to_string(w)};
      for (int round = 0; round < 40; ++round) {
        LockResult taken = locks.acquire(this->image_ids_[w], actor, 60);
        ASSERT_TRUE(taken.lease);
        locks.release(this->image_ids_[w], actor, taken.lease->token);
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  follower.join();

  std::set<Id> committed;
  for (const Event& e : catalog.list_events(project, 0, 100000)) committed.insert(e.id);
  EXPECT_EQ(committed.size(), 2u * 40 * TestFixture::kImages + TestFixture::kImages + 1)
      << "every acquire and release, the imports and the project";
  std::vector<Id> missed;
  for (Id id : committed) {
    if (!seen.contains(id)) missed.push_back(id);
  }
  EXPECT_TRUE(missed.empty()) << missed.size() << " events never reached the follower, first id " << missed.front();
}

// The mechanism itself, on two connections: a second event writer waits until the first has committed, so
// it cannot take a smaller id and commit after a reader has moved past it.
TYPED_TEST(EventOrderTest, ASecondEventWriterWaitsForTheFirstToCommit) {
  std::unique_ptr<Connection> first = this->backend_.raw();
  std::unique_ptr<Connection> second = this->backend_.raw();
  if (first->dialect() == Dialect::sqlite) GTEST_SKIP() << "SQLite has one writer at a time by itself";
  const std::string insert = "INSERT INTO events (project_id, at, kind) VALUES (?, 'now', 'test.order') RETURNING id";
  first->begin();
  order_event_ids(*first);
  const Id first_id = first->query(insert, {this->project_}).i64(0, 0);
  std::promise<Id> second_done;
  std::future<Id> second_id = second_done.get_future();
  std::thread other([&] {
    second->begin();
    order_event_ids(*second);
    const Id id = second->query(insert, {this->project_}).i64(0, 0);
    second->commit();
    second_done.set_value(id);
  });
  // Cannot pass by accident: with the ordering lock the second writer is blocked for as long as we wait.
  EXPECT_EQ(second_id.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "the second event writer did not wait for the first transaction";
  first->commit();
  other.join();
  EXPECT_GT(second_id.get(), first_id);
}

}  // namespace
}  // namespace tessera::catalog
