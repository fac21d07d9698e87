#pragma once

#include <opencv2/core.hpp>
#include <vector>

namespace tessera::stitch::detail {

// One measured relation: tile b's top-left minus tile a's is `offset`, trusted with `weight` (> 0).
struct Edge {
  int a = 0;
  int b = 0;
  cv::Point2d offset;
  double weight = 1.0;
};

// Positions minimising sum(weight * |p_b - p_a - offset|^2). Each connected group of tiles is
// pinned by one tile at its nominal position: `anchor` in its group, else the group's lowest index;
// a tile with no edge stays at its nominal position. Each group is solved by dense Cholesky on its
// weighted Laplacian, fine for the few thousand tiles of a scanned slide.
std::vector<cv::Point2d> solve_positions(const std::vector<cv::Point2d>& nominal,
                                         const std::vector<Edge>& edges, int anchor);

// Positions from the edges, robust to wrong ones: solve, and while the largest residual length
// exceeds max_residual drop that edge and solve again. A wrong edge in a loop of edges disagrees
// with the others and is the worst residual; an edge that is a tile's only link cannot be checked
// and stays.
struct RobustSolution {
  std::vector<cv::Point2d> positions;
  std::vector<bool> dropped;           // per edge
  std::vector<cv::Point2d> residuals;  // per edge: p_b - p_a - offset in the final solution
};
RobustSolution solve_robust(const std::vector<cv::Point2d>& nominal, const std::vector<Edge>& edges,
                            int anchor, double max_residual);

// Connected group of each tile (group ids in order of each group's lowest tile).
std::vector<int> connected_groups(int tiles, const std::vector<Edge>& edges);

}  // namespace tessera::stitch::detail
