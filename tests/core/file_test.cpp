#include "tessera/core/file.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "test_util.hpp"

namespace tessera {
namespace {

TEST(File, AtomicWriteReplacesContentAndLeavesNoTempFile) {
  test::TempDir dir;
  const auto path = dir / "config.json";
  write_file_atomic(path, "first");
  write_file_atomic(path, "second, longer");
  EXPECT_EQ(read_file(path), "second, longer");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(File, ReadingAMissingFileNamesThePath) {
  test::TempDir dir;
  try {
    read_file(dir / "absent.png");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find("absent.png"), std::string::npos);
  }
}

TEST(File, ErrorCodesMapToDistinctExitStatuses) {
  EXPECT_EQ(exit_code_for(ErrorCode::invalid_argument), 2);
  EXPECT_EQ(exit_code_for(ErrorCode::not_found), 3);
  EXPECT_EQ(exit_code_for(ErrorCode::corrupt), 5);
  EXPECT_EQ(to_string(ErrorCode::conflict), "conflict");
}

}  // namespace
}  // namespace tessera
