#include "stitch/solve.hpp"

#include <algorithm>
#include <numeric>

#include "tessera/core/error.hpp"

namespace tessera::stitch::detail {
namespace {

int find_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

}  // namespace

std::vector<int> connected_groups(int tiles, const std::vector<Edge>& edges) {
  std::vector<int> parent(static_cast<size_t>(tiles));
  std::iota(parent.begin(), parent.end(), 0);
  for (const Edge& e : edges) {
    const int ra = find_root(parent, e.a);
    const int rb = find_root(parent, e.b);
    if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);  // the root stays the lowest index
  }
  std::vector<int> group(static_cast<size_t>(tiles), -1);
  std::vector<int> id_of_root(static_cast<size_t>(tiles), -1);
  int next = 0;
  for (int i = 0; i < tiles; ++i) {
    const int r = find_root(parent, i);
    if (id_of_root[r] < 0) id_of_root[r] = next++;
    group[i] = id_of_root[r];
  }
  return group;
}

std::vector<cv::Point2d> solve_positions(const std::vector<cv::Point2d>& nominal,
                                         const std::vector<Edge>& edges, int anchor) {
  const int n = static_cast<int>(nominal.size());
  std::vector<cv::Point2d> out = nominal;
  const std::vector<int> group = connected_groups(n, edges);
  const int groups = n == 0 ? 0 : *std::max_element(group.begin(), group.end()) + 1;
  for (int g = 0; g < groups; ++g) {
    std::vector<int> members;
    for (int i = 0; i < n; ++i) {
      if (group[i] == g) members.push_back(i);
    }
    if (members.size() < 2) continue;
    const int pinned = (anchor >= 0 && anchor < n && group[anchor] == g) ? anchor : members.front();
    // Unknowns: every member but the pinned one, which enters the right-hand side as a known
    // position.
    std::vector<int> slot(static_cast<size_t>(n), -1);
    int k = 0;
    for (int i : members) {
      if (i != pinned) slot[i] = k++;
    }
    cv::Mat lap = cv::Mat::zeros(k, k, CV_64F);
    cv::Mat rhs = cv::Mat::zeros(k, 2, CV_64F);
    for (const Edge& e : edges) {
      if (group[e.a] != g) continue;
      const int sa = slot[e.a], sb = slot[e.b];
      const double w = e.weight;
      // Residual r = p_b - p_a - offset; d/dp_b: +w r, d/dp_a: -w r.
      if (sb >= 0) {
        lap.at<double>(sb, sb) += w;
        rhs.at<double>(sb, 0) += w * e.offset.x;
        rhs.at<double>(sb, 1) += w * e.offset.y;
      }
      if (sa >= 0) {
        lap.at<double>(sa, sa) += w;
        rhs.at<double>(sa, 0) -= w * e.offset.x;
        rhs.at<double>(sa, 1) -= w * e.offset.y;
      }
      if (sa >= 0 && sb >= 0) {
        lap.at<double>(sa, sb) -= w;
        lap.at<double>(sb, sa) -= w;
      } else if (sa >= 0) {  // b is pinned
        rhs.at<double>(sa, 0) += w * nominal[e.b].x;
        rhs.at<double>(sa, 1) += w * nominal[e.b].y;
      } else if (sb >= 0) {  // a is pinned
        rhs.at<double>(sb, 0) += w * nominal[e.a].x;
        rhs.at<double>(sb, 1) += w * nominal[e.a].y;
      }
    }
    cv::Mat solution;
    // A connected group with one pinned tile has a positive definite reduced Laplacian.
    if (!cv::solve(lap, rhs, solution, cv::DECOMP_CHOLESKY)) {
      throw Error(ErrorCode::internal,
                  "stitch: the placement system of a connected tile group is singular");
    }
    for (int i : members) {
      if (slot[i] >= 0) out[i] = {solution.at<double>(slot[i], 0), solution.at<double>(slot[i], 1)};
    }
  }
  return out;
}

RobustSolution solve_robust(const std::vector<cv::Point2d>& nominal, const std::vector<Edge>& edges,
                            int anchor, double max_residual) {
  RobustSolution out;
  out.dropped.assign(edges.size(), false);
  out.residuals.assign(edges.size(), cv::Point2d());
  for (;;) {
    std::vector<Edge> kept;
    for (size_t e = 0; e < edges.size(); ++e) {
      if (!out.dropped[e]) kept.push_back(edges[e]);
    }
    out.positions = solve_positions(nominal, kept, anchor);
    double worst = 0;
    size_t worst_edge = edges.size();
    for (size_t e = 0; e < edges.size(); ++e) {
      const Edge& edge = edges[e];
      out.residuals[e] = (out.positions[edge.b] - out.positions[edge.a]) - edge.offset;
      const double r = cv::norm(out.residuals[e]);
      if (!out.dropped[e] && r > worst) {
        worst = r;
        worst_edge = e;
      }
    }
    if (worst <= max_residual || worst_edge == edges.size()) return out;
    out.dropped[worst_edge] = true;
  }
}

}  // namespace tessera::stitch::detail
