#include "stitch/solve.hpp"

#include <gtest/gtest.h>

namespace tessera::stitch::detail {
namespace {

TEST(SolvePositions, LeastSquaresSpreadsDisagreementAndPinsTheAnchor) {
  const std::vector<cv::Point2d> nominal = {{0, 0}, {100, 0}, {200, 0}, {500, 500}};
  // 0->1 says 102, 1->2 says 101, 0->2 says 200: the three disagree by 3 px in total.
  const std::vector<Edge> edges = {
      {0, 1, {102, 0}, 1.0}, {1, 2, {101, 0}, 1.0}, {0, 2, {200, 0}, 1.0}};
  const auto p = solve_positions(nominal, edges, 0);
  EXPECT_EQ(p[0], cv::Point2d(0, 0));
  EXPECT_NEAR(p[1].x, 101.0, 1e-9);  // each relation off by 1 px
  EXPECT_NEAR(p[2].x, 201.0, 1e-9);
  EXPECT_EQ(p[3], cv::Point2d(500, 500));  // no edge: stays at nominal
}

TEST(SolvePositions, WeightsFavourTheConfidentPair) {
  const std::vector<cv::Point2d> nominal = {{0, 0}, {100, 0}};
  const std::vector<Edge> edges = {{0, 1, {110, 0}, 9.0}, {0, 1, {100, 0}, 1.0}};
  EXPECT_NEAR(solve_positions(nominal, edges, 0)[1].x, 109.0, 1e-9);
}

TEST(SolveRobust, DropsTheOneWrongPairOfALoopAndPlacesTheRestExactly) {
  // A 2x2 grid, truth 100 px apart; the 1->3 measurement is off by 30 px (a wrong correlation
  // peak).
  const std::vector<cv::Point2d> nominal = {{0, 0}, {100, 0}, {0, 100}, {100, 100}};
  const std::vector<Edge> edges = {{0, 1, {102, 1}, 1.0},  {0, 2, {-1, 98}, 1.0},
                                   {1, 3, {-1, 128}, 1.0}, {2, 3, {102, 1}, 1.0},
                                   {0, 3, {101, 99}, 1.0}, {1, 2, {-103, 97}, 1.0}};
  const RobustSolution s = solve_robust(nominal, edges, 0, 2.0);
  EXPECT_EQ(s.dropped, (std::vector<bool>{false, false, true, false, false, false}));
  EXPECT_NEAR(s.positions[1].x, 102, 1e-9);
  EXPECT_NEAR(s.positions[2].y, 98, 1e-9);
  EXPECT_NEAR(s.positions[3].x, 101, 1e-9);
  EXPECT_NEAR(s.positions[3].y, 99, 1e-9);
  EXPECT_NEAR(cv::norm(s.residuals[2]), 30.0, 1e-9);  // the dropped edge's disagreement is reported
}

TEST(SolveRobust, KeepsEveryPairThatAgrees) {
  const std::vector<cv::Point2d> nominal = {{0, 0}, {100, 0}, {200, 0}};
  const std::vector<Edge> edges = {
      {0, 1, {101, 0}, 1.0}, {1, 2, {100, 0}, 1.0}, {0, 2, {200, 0}, 1.0}};
  const RobustSolution s = solve_robust(nominal, edges, 0, 2.0);
  EXPECT_EQ(s.dropped, (std::vector<bool>(3, false)));
}

TEST(SolvePositions, GroupWithoutTheAnchorIsPinnedByItsFirstTile) {
  const std::vector<cv::Point2d> nominal = {{0, 0}, {100, 0}, {200, 0}, {300, 0}};
  const std::vector<Edge> edges = {{0, 1, {103, 0}, 1.0}, {2, 3, {97, 2}, 1.0}};
  const auto p = solve_positions(nominal, edges, 1);
  EXPECT_EQ(p[1], cv::Point2d(100, 0));
  EXPECT_NEAR(p[0].x, -3.0, 1e-9);
  EXPECT_EQ(p[2], cv::Point2d(200, 0));
  EXPECT_NEAR(p[3].x, 297.0, 1e-9);
  EXPECT_NEAR(p[3].y, 2.0, 1e-9);
  EXPECT_EQ(connected_groups(4, edges), (std::vector<int>{0, 0, 1, 1}));
}

}  // namespace
}  // namespace tessera::stitch::detail
