// The practical floor for the measure benchmark: decode, Otsu threshold and connectedComponentsWithStats
// (area, bbox, centroid only) with plain OpenCV, one image after another, printing the object count.
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

int main(int argc, char** argv) {
  long long objects = 0;
  for (int i = 1; i < argc; ++i) {
    const cv::Mat gray = cv::imread(argv[i], cv::IMREAD_UNCHANGED);
    if (gray.empty()) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    cv::Mat mask, labels, stats, centroids;
    cv::threshold(gray, mask, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    objects += cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S) - 1;
  }
  std::printf("%lld\n", objects);
  return 0;
}
