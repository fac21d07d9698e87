#include "tessera/learn/random_forest.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "../test_util.hpp"

using namespace tessera::learn;

namespace {

// Two noisy classes separated along feature 0 plus three noise features; class = (x0 + 0.3 noise > 0).
void make_data(int n, std::uint64_t seed, cv::Mat& rows, std::vector<int>& classes) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  rows.create(n, 4, CV_32F);
  classes.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int f = 0; f < 4; ++f) rows.at<float>(i, f) = normal(rng);
    classes[i] = rows.at<float>(i, 0) + 0.3f * normal(rng) > 0 ? 1 : 0;
  }
}

// n x features standard normal values, and each row's class from `class_of` applied to the row.
template <typename ClassOf>
void make_normal_rows(int n, int features, std::uint64_t seed, ClassOf class_of, cv::Mat& rows,
                      std::vector<int>& classes) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  rows.create(n, features, CV_32F);
  classes.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int f = 0; f < features; ++f) rows.at<float>(i, f) = normal(rng);
    classes[i] = class_of(rows.ptr<float>(i));
  }
}

double accuracy(const RandomForest& forest, const cv::Mat& rows, const std::vector<int>& classes) {
  const cv::Mat proba = forest.predict_proba(rows);
  int right = 0;
  for (int i = 0; i < rows.rows; ++i) right += (proba.at<float>(i, 1) > 0.5f ? 1 : 0) == classes[i];
  return static_cast<double>(right) / rows.rows;
}

}  // namespace

TEST(RandomForest, LearnsANoisyThresholdAndGeneralises) {
  cv::Mat train_rows, test_rows;
  std::vector<int> train_classes, test_classes;
  make_data(4000, 1, train_rows, train_classes);
  make_data(2000, 2, test_rows, test_classes);
  const RandomForest forest = RandomForest::train(train_rows, train_classes, 2, {.trees = 30, .max_depth = 8});
  // The Bayes rate of this problem is about 0.9; a forest that learnt nothing scores 0.5.
  EXPECT_GT(accuracy(forest, test_rows, test_classes), 0.85);
  const cv::Mat proba = forest.predict_proba(test_rows);
  for (int i = 0; i < proba.rows; ++i) EXPECT_NEAR(proba.at<float>(i, 0) + proba.at<float>(i, 1), 1.0f, 1e-5f);
}

TEST(RandomForest, SameSeedSameForestOtherSeedOtherForest) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(1000, 3, rows, classes);
  const auto a = RandomForest::train(rows, classes, 2, {.trees = 10, .seed = 7});
  const auto b = RandomForest::train(rows, classes, 2, {.trees = 10, .seed = 7});
  const auto c = RandomForest::train(rows, classes, 2, {.trees = 10, .seed = 8});
  EXPECT_EQ(a.to_bytes(), b.to_bytes());
  EXPECT_NE(a.to_bytes(), c.to_bytes());
}

TEST(RandomForest, BytesRoundTripPredictsTheSame) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(500, 4, rows, classes);
  const auto forest = RandomForest::train(rows, classes, 2, {.trees = 5});
  const auto copy = RandomForest::from_bytes(forest.to_bytes());
  EXPECT_EQ(cv::norm(forest.predict_proba(rows), copy.predict_proba(rows), cv::NORM_INF), 0.0);
}

TEST(RandomForest, DamagedBytesAreCorruptNotACrash) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(300, 5, rows, classes);
  const std::string bytes = RandomForest::train(rows, classes, 2, {.trees = 3}).to_bytes();
  for (const size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    try {
      RandomForest::from_bytes(bytes.substr(0, cut));
      ADD_FAILURE() << "truncated at " << cut << " loaded";
    } catch (const tessera::Error& e) {
      EXPECT_EQ(e.code(), tessera::ErrorCode::corrupt) << e.what();
    }
  }
}

TEST(RandomForest, RefusesOneClassNanAndBadOptions) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(100, 6, rows, classes);
  tessera::test::expect_invalid(
      [&] { RandomForest::train(rows, std::vector<int>(100, 1), 2, {}); }, "only one class");
  cv::Mat with_nan = rows.clone();
  with_nan.at<float>(17, 2) = std::numeric_limits<float>::quiet_NaN();
  tessera::test::expect_invalid([&] { RandomForest::train(with_nan, classes, 2, {}); }, "row 17, feature 2");
  tessera::test::expect_invalid([&] { RandomForest::train(rows, classes, 2, {.trees = 0}); }, "'trees'");
  tessera::test::expect_invalid([&] { RandomForest::train(rows, {0, 1}, 2, {}); }, "'classes' has 2 values");
}

TEST(RandomForest, RowPredictionInPiecesMatchesTheWholeMatrix) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(700, 7, rows, classes);
  const auto forest = RandomForest::train(rows, classes, 2, {.trees = 12, .max_depth = 10});
  const cv::Mat whole = forest.predict_proba(rows);
  // Pieces of 37 rows: groups of 8 rows walk together, so every piece ends in a partial group.
  cv::Mat pieces(rows.rows, 2, CV_32F);
  for (int first = 0; first < rows.rows; first += 37) {
    forest.predict_rows(rows.ptr<float>(first), std::min(37, rows.rows - first), pieces.ptr<float>(first));
  }
  EXPECT_EQ(cv::norm(pieces, whole, cv::NORM_INF), 0.0);
  // Each row alone gives the same as well.
  for (const int i : {0, 7, 8, 699}) {
    float alone[2];
    forest.predict_rows(rows.ptr<float>(i), 1, alone);
    EXPECT_EQ(alone[1], whole.at<float>(i, 1)) << "row " << i;
  }
}

TEST(RandomForest, ValuesBeyondTheTrainingRangeAndNanStillPredict) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(500, 8, rows, classes);
  const auto forest = RandomForest::train(rows, classes, 2, {.trees = 8});
  cv::Mat odd(3, 4, CV_32F, cv::Scalar(0));
  odd.row(0).setTo(1e30f);
  odd.row(1).setTo(-1e30f);
  odd.row(2).setTo(std::numeric_limits<float>::quiet_NaN());
  const cv::Mat proba = forest.predict_proba(odd);
  // Far above the range is class 1 territory along feature 0, far below class 0; NaN goes left like -huge.
  EXPECT_GT(proba.at<float>(0, 1), 0.7f);
  EXPECT_LT(proba.at<float>(1, 1), 0.3f);
  EXPECT_EQ(proba.at<float>(2, 1), proba.at<float>(1, 1));
}

TEST(RandomForest, DamagedNodesAreCorruptNotACrash) {
  // Every single-byte change either loads a forest whose walks stay inside its
  // arrays or is refused as corrupt: prediction on the loaded forest must not crash (ASan builds catch it).
  cv::Mat rows;
  std::vector<int> classes;
  make_data(200, 9, rows, classes);
  const std::string bytes = RandomForest::train(rows, classes, 2, {.trees = 2, .max_depth = 3}).to_bytes();
  int refused = 0;
  for (size_t at = 8; at < bytes.size(); ++at) {
    for (const unsigned char value : {0x00, 0x7f, 0xff}) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(value);
      try {
        const auto forest = RandomForest::from_bytes(damaged);
        const cv::Mat proba = forest.predict_proba(rows);
        EXPECT_EQ(proba.rows, rows.rows);
      } catch (const tessera::Error& e) {
        EXPECT_EQ(e.code(), tessera::ErrorCode::corrupt) << e.what();
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, 0);
}

namespace {

// The vector kernels this CPU runs, each checked against the portable walk.
std::vector<ForestKernel> vector_kernels_here() {
  std::vector<ForestKernel> kernels;
  for (const ForestKernel kernel : {ForestKernel::avx2, ForestKernel::avx512}) {
    if (cpu_runs_forest_kernel(kernel)) kernels.push_back(kernel);
  }
  return kernels;
}

// Every kernel's probabilities of the rows, bit for bit equal to the portable walk's.
void expect_every_kernel_matches_portable(const RandomForest& forest, const cv::Mat& rows, const std::string& what) {
  const size_t size = static_cast<size_t>(rows.rows) * forest.class_count();
  std::vector<float> portable(size);
  forest.predict_rows(rows.ptr<float>(), rows.rows, portable.data(), ForestKernel::portable);
  for (const ForestKernel kernel : vector_kernels_here()) {
    ASSERT_EQ(forest.kernel(kernel), kernel) << forest_kernel_name(kernel);
    std::vector<float> vector(size, -1.0f);
    forest.predict_rows(rows.ptr<float>(), rows.rows, vector.data(), kernel);
    EXPECT_EQ(portable, vector) << forest_kernel_name(kernel) << ", " << what;
  }
}

}  // namespace

TEST(RandomForest, VectorKernelsGiveThePortableWalksFloatsBitForBit) {
  if (vector_kernels_here().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512F";
  cv::Mat rows;
  std::vector<int> classes;
  make_data(3001, 10, rows, classes);
  // Deep trees walk far below the top levels; depth 2 and 1 trees end above them (leaves in the top levels).
  // 3001 rows: the last block of 16 is partial.
  for (const int depth : {12, 2, 1}) {
    const auto forest = RandomForest::train(rows, classes, 2, {.trees = 20, .max_depth = depth});
    expect_every_kernel_matches_portable(forest, rows, "depth " + std::to_string(depth));
  }
}

TEST(RandomForest, VectorKernelsAgreeOnNanHugeValuesAndManyClasses) {
  if (vector_kernels_here().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512F";
  cv::Mat rows;
  std::vector<int> classes;
  make_normal_rows(
      2000, 6, 11, [](const float* row) { return static_cast<int>(std::clamp(row[1] * 2.5f + 2.5f, 0.0f, 4.0f)); },
      rows, classes);  // 5 classes
  const auto forest = RandomForest::train(rows, classes, 5, {.trees = 15, .max_depth = 9});
  cv::Mat odd = rows.rowRange(0, 40).clone();
  for (int i = 0; i < odd.rows; i += 3) odd.at<float>(i, i % 6) = std::numeric_limits<float>::quiet_NaN();
  for (int i = 1; i < odd.rows; i += 5) odd.at<float>(i, (i + 1) % 6) = (i % 2 ? 1 : -1) * 1e30f;
  const float infinity = std::numeric_limits<float>::infinity();
  for (int i = 2; i < odd.rows; i += 7) odd.at<float>(i, (i + 2) % 6) = (i % 2 ? 1 : -1) * infinity;
  expect_every_kernel_matches_portable(forest, rows, "training rows");
  expect_every_kernel_matches_portable(forest, odd, "NaN, huge and infinite values");
}

TEST(RandomForest, VectorKernelsTreatSignedZerosAsEqualLikeTheFloatCompare) {
  // The kernels compare order keys of the floats; -0 and +0 must stay equal there, as they are as floats,
  // whichever of them became a threshold.
  if (vector_kernels_here().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512F";
  std::mt19937_64 rng(14);
  const float values[] = {-1.0f, -0.0f, 0.0f, 1.0f};
  cv::Mat rows(1000, 3, CV_32F);
  std::vector<int> classes(rows.rows);
  for (int i = 0; i < rows.rows; ++i) {
    for (int f = 0; f < rows.cols; ++f) rows.at<float>(i, f) = values[rng() % 4];
    classes[i] = (rows.at<float>(i, 0) + rows.at<float>(i, 1) + (rng() % 3 == 0 ? 1.0f : 0.0f)) > 0 ? 1 : 0;
  }
  for (const std::uint64_t seed : {1, 2, 3}) {
    const auto forest = RandomForest::train(rows, classes, 2, {.trees = 10, .seed = seed});
    expect_every_kernel_matches_portable(forest, rows, "seed " + std::to_string(seed));
  }
}

TEST(RandomForest, ForestTooWideForTheVectorKernelsPredictsWithThePortableWalk) {
  // A column's byte offset in a block must fit 16 bits: 1024 features do not.
  cv::Mat rows;
  std::vector<int> classes;
  make_normal_rows(300, 1024, 12, [](const float* row) { return row[1000] > 0 ? 1 : 0; }, rows, classes);
  const auto forest = RandomForest::train(rows, classes, 2, {.trees = 4, .features_per_split = 1024});
  EXPECT_EQ(forest.kernel(), ForestKernel::portable);
  for (const ForestKernel kernel : vector_kernels_here()) EXPECT_EQ(forest.kernel(kernel), ForestKernel::portable);
  EXPECT_GT(accuracy(forest, rows, classes), 0.95);
}

TEST(RandomForest, FastestKernelIsOneThisCpuRuns) {
  const ForestKernel fastest = fastest_forest_kernel();
  EXPECT_NE(fastest, ForestKernel::fastest);
  EXPECT_TRUE(cpu_runs_forest_kernel(fastest)) << forest_kernel_name(fastest);
  if (std::getenv("TESSERA_FOREST_KERNEL") == nullptr && cpu_runs_forest_kernel(ForestKernel::avx2)) {
    EXPECT_NE(fastest, ForestKernel::portable);
  }
}

TEST(RandomForest, ForcingAKernelThisCpuLacksIsAnError) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(100, 15, rows, classes);
  const auto forest = RandomForest::train(rows, classes, 2, {.trees = 2, .max_depth = 3});
  int lacking = 0;
  for (const ForestKernel kernel : {ForestKernel::avx2, ForestKernel::avx512}) {
    if (cpu_runs_forest_kernel(kernel)) continue;
    ++lacking;
    std::vector<float> out(rows.rows * 2);
    try {
      forest.predict_rows(rows.ptr<float>(), rows.rows, out.data(), kernel);
      ADD_FAILURE() << forest_kernel_name(kernel) << " ran on a CPU without it";
    } catch (const tessera::Error& e) {
      EXPECT_EQ(e.code(), tessera::ErrorCode::unsupported) << e.what();
    }
  }
  if (lacking == 0) GTEST_SKIP() << "this CPU runs every kernel";
}

TEST(RandomForest, ColumnPredictionMatchesRowPredictionWithEveryKernel) {
  cv::Mat rows;
  std::vector<int> classes;
  make_data(203, 13, rows, classes);  // 203 rows: the last block of 16 is partial
  const auto forest = RandomForest::train(rows, classes, 2, {.trees = 9, .max_depth = 10});
  const cv::Mat by_row = forest.predict_proba(rows);
  cv::Mat columns = rows.t();  // feature-major: row f holds feature f of every sample
  std::vector<const float*> features;
  for (int f = 0; f < columns.rows; ++f) features.push_back(columns.ptr<float>(f));
  std::vector<ForestKernel> kernels = {ForestKernel::fastest, ForestKernel::portable};
  for (const ForestKernel kernel : vector_kernels_here()) kernels.push_back(kernel);
  for (const ForestKernel kernel : kernels) {
    cv::Mat by_column(2, rows.rows, CV_32F, cv::Scalar(-1));
    float* out[] = {by_column.ptr<float>(0), by_column.ptr<float>(1)};
    forest.predict_columns(features.data(), rows.rows, out, kernel);
    EXPECT_EQ(cv::norm(by_column.t(), by_row, cv::NORM_INF), 0.0) << forest_kernel_name(kernel);
  }
}
