#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "tessera/core/file.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/synth/timelapse.hpp"
#include "tessera/track/ctc.hpp"
#include "tessera/track/trk.hpp"
#include "test_util.hpp"

namespace tessera::track {
namespace {

using tessera::test::TempDir;

struct CliRun {
  int status;
  std::string err;
};

// Runs the real CLI; returns its exit status and stderr.
CliRun tessera(const TempDir& dir, const std::string& args) {
  const auto err = dir / "stderr.txt";
  const std::string command = fmt::format("{} {} >/dev/null 2>{}", TESSERA_BINARY, args, err.string());
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(err)};
}

TEST(TrackCli, TracksAFolderAndConvertsBothWays) {
  TempDir dir;
  synth::TimelapseOptions o;
  o.positions = 1;
  o.frames = 12;
  o.size = 128;
  o.nuclei = 8;
  o.seed = 2;
  synth::write_timelapse(dir / "syn", o);
  const auto masks = dir / "syn" / "masks" / "exp1" / "pos01";
  const auto images = dir / "syn" / "images" / "exp1" / "pos01";
  ASSERT_EQ(tessera(dir, fmt::format("track files --masks {} --images {} --out {} --max-gap 1", masks.string(),
                                     images.string(), (dir / "ctc").string()))
                .status,
            0);
  EXPECT_EQ(read_ctc(dir / "ctc").labels.size(), 12u);
  ASSERT_EQ(tessera(dir, fmt::format("track convert {} {}", (dir / "ctc").string(), (dir / "m.trk").string())).status,
            0);
  ASSERT_EQ(tessera(dir, fmt::format("track convert {} {}", (dir / "m.trk").string(), (dir / "back").string())).status,
            0);
  for (const auto& e : std::filesystem::directory_iterator(dir / "ctc")) {
    EXPECT_EQ(read_file(e.path()), read_file(dir / "back" / e.path().filename())) << e.path().filename();
  }
  ASSERT_EQ(tessera(dir, fmt::format("track files --masks {} --out {} --format trk", masks.string(),
                                     (dir / "direct.trk").string()))
                .status,
            0);
  EXPECT_EQ(read_trk(dir / "direct.trk").tracks, read_trk(dir / "m.trk").tracks);
}

TEST(TrackCli, BadInputExitsWithAClearMessage) {
  TempDir dir;
  std::filesystem::create_directories(dir / "sizes");
  cv::Mat a(20, 20, CV_16U, cv::Scalar(0));
  a(cv::Rect(2, 2, 5, 5)).setTo(1);
  image::write_image(dir / "sizes" / "f1.png", a);
  image::write_image(dir / "sizes" / "f2.png", cv::Mat(24, 20, CV_16U, cv::Scalar(0)));
  CliRun r =
      tessera(dir, fmt::format("track files --masks {} --out {}", (dir / "sizes").string(), (dir / "o").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("frame 1 (f2.png): image is 20x24, but frame 0 (f1.png) is 20x20"), std::string::npos) << r.err;

  std::filesystem::create_directories(dir / "one");
  image::write_image(dir / "one" / "f1.png", a);
  r = tessera(dir, fmt::format("track files --masks {} --out {}", (dir / "one").string(), (dir / "o").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("the series has 1 frame"), std::string::npos) << r.err;

  r = tessera(
      dir, fmt::format("track files --masks {} --out {} --format trk", (dir / "sizes").string(), (dir / "o").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("does not end in .trk"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tessera::track
