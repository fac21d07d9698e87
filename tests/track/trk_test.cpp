#include "tessera/track/trk.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/npy.hpp"
#include "tessera/track/ctc.hpp"
#include "tessera/track/files.hpp"
#include "tessera/track/tracker.hpp"
#include "test_util.hpp"
#include "track/synth_fixture.hpp"
#include "track/tar.hpp"

namespace tessera::track {
namespace {

using tessera::test::expect_invalid;
using tessera::test::TempDir;

const std::filesystem::path kFixture = TESSERA_SOURCE_DIR "/tests/track/data/division.trk";

// tests/track/data/division.trk was written the way deepcell-tracking's save_trk writes (Python tarfile
// "w:gz", json.dump(indent=4), numpy.save): cell 1 (frames 0-1) divides into 2 and 3 (frame 2); cell 4
// is a single pixel in every frame; raw is uint16 (3, 6, 8, 1).
TEST(Trk, ReadsAGzippedTrkAsDeepcellTrackingWritesIt) {
  const TrackedMovie m = read_trk(kFixture);
  ASSERT_EQ(m.labels.size(), 3u);
  EXPECT_EQ(m.labels[0].size(), cv::Size(8, 6));
  EXPECT_EQ(m.labels[2].at<std::int32_t>(1, 1), 2);
  EXPECT_EQ(m.labels[2].at<std::int32_t>(3, 5), 3);
  const std::vector<Track> expected = {
      {1, 0, 1, 0, true}, {2, 2, 2, 1, false}, {3, 2, 2, 1, false}, {4, 0, 2, 0, false}};
  EXPECT_EQ(m.tracks, expected);
  ASSERT_EQ(m.raw.size(), 3u);
  EXPECT_EQ(m.raw[0].type(), CV_16UC1);
  EXPECT_EQ(m.raw[1].at<std::uint16_t>(0, 1), (48 + 1) * 7);
}

TEST(Trk, ExportImportExportIsByteIdenticalAndMatchesCtc) {
  synth::TimelapseOptions o;
  o.positions = 1;
  o.frames = 16;
  o.size = 160;
  o.nuclei = 12;
  o.seed = 8;
  o.cycle_frames = 10;
  const auto s = test::synth_series(o, 1);
  const TrackSet tracked = track(s.objects, {}, s.size);
  const TrackedMovie movie = make_movie(s.frames.labels, tracked, s.frames.images);
  TempDir dir;
  write_trk(dir / "a.trk", movie);
  const TrackedMovie back = read_trk(dir / "a.trk");
  write_trk(dir / "b.trk", back);
  EXPECT_EQ(read_file(dir / "a.trk"), read_file(dir / "b.trk"));
  EXPECT_EQ(back.tracks, movie.tracks);
  EXPECT_EQ(cv::norm(back.raw[5], movie.raw[5], cv::NORM_INF), 0.0);

  // ctc -> trk -> ctc gives the same folder.
  write_ctc(dir / "ctc1", movie);
  write_movie(dir / "c.trk", read_movie(dir / "ctc1"));
  write_movie(dir / "ctc2", read_movie(dir / "c.trk"));
  for (const auto& e : std::filesystem::directory_iterator(dir / "ctc1")) {
    const auto name = e.path().filename();
    EXPECT_EQ(read_file(e.path()), read_file(dir / "ctc2" / name)) << name;
  }
}

TEST(Trk, PythonReadsWhatTesseraWrites) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3 with numpy";
  TempDir dir;
  const TrackedMovie m = read_trk(kFixture);
  write_trk(dir / "x.trk", m);
  // deepcell-tracking's load_trks, restated: tarfile.open(mode='r'), np.load of each member, json.
  const std::string script = fmt::format(R"(
import io, json, sys, tarfile, numpy as np
with tarfile.open('{}', mode='r') as t:
    raw = np.load(io.BytesIO(t.extractfile('raw.npy').read()))
    tracked = np.load(io.BytesIO(t.extractfile('tracked.npy').read()))
    lineage = json.loads(t.extractfile('lineage.json').read().decode())
assert raw.shape == (3, 6, 8, 1) and raw.dtype == np.uint16, raw.shape
assert tracked.shape == (3, 6, 8, 1) and tracked.dtype == np.int32, tracked.shape
assert lineage['1'] == {{'label': 1, 'frames': [0, 1], 'daughters': [2, 3], 'frame_div': 2, 'parent': None, 'capped': True}}, lineage['1']
assert lineage['3']['parent'] == 1 and lineage['4']['frames'] == [0, 1, 2]
assert int(tracked[2, 3, 5, 0]) == 3
)",
                                         (dir / "x.trk").string());
  write_file_atomic(dir / "check.py", script);
  EXPECT_EQ(std::system(fmt::format("/usr/bin/python3 {}", (dir / "check.py").string()).c_str()), 0);
}

// A .trk with the fixture's arrays and the given lineage.
std::filesystem::path trk_with(const TempDir& dir, const std::string& name, const nlohmann::json& lineage) {
  const TrackedMovie m = read_trk(kFixture);
  const std::vector<TarMember> members = {{"lineage.json", lineage.dump()},
                                          {"raw.npy", exchange::encode_npy(exchange::npy_from_mats(m.raw))},
                                          {"tracked.npy", exchange::encode_npy(exchange::npy_from_mats(m.labels))}};
  write_file_atomic(dir / name, write_tar(members));
  return dir / name;
}

nlohmann::json fixture_lineage() {
  return nlohmann::json::parse(R"({
    "1": {"label": 1, "frames": [0, 1], "daughters": [2, 3], "frame_div": 2, "parent": null, "capped": true},
    "2": {"label": 2, "frames": [2], "daughters": [], "frame_div": null, "parent": 1, "capped": false},
    "3": {"label": 3, "frames": [2], "daughters": [], "frame_div": null, "parent": 1, "capped": false},
    "4": {"label": 4, "frames": [0, 1, 2], "daughters": [], "frame_div": null, "parent": null, "capped": false}})");
}

TEST(Trk, ReadingRejectsALineageThatDisagreesWithTheLabels) {
  TempDir dir;
  EXPECT_EQ(read_trk(trk_with(dir, "ok.trk", fixture_lineage())).tracks.size(), 4u);

  auto missing = fixture_lineage();
  missing.erase("4");
  expect_invalid([&] { read_trk(trk_with(dir, "missing.trk", missing)); },
                 "frame 0: label 4 has no entry in lineage.json");

  auto frames = fixture_lineage();
  frames["4"]["frames"] = {0, 2};
  expect_invalid([&] { read_trk(trk_with(dir, "frames.trk", frames)); },
                 "frame 1: label 4 is present in tracked.npy but missing from its 'frames'");

  auto ghost = fixture_lineage();
  ghost["9"] = {{"label", 9}, {"frames", {1}}, {"daughters", nlohmann::json::array()}, {"parent", nullptr}};
  expect_invalid([&] { read_trk(trk_with(dir, "ghost.trk", ghost)); }, "label 9 is in no frame of tracked.npy");

  auto one_sided = fixture_lineage();
  one_sided["1"]["daughters"] = {2};
  expect_invalid([&] { read_trk(trk_with(dir, "one_sided.trk", one_sided)); },
                 "label 3 names parent 1, whose daughters do not include it");

  auto early = fixture_lineage();
  early["4"]["daughters"] = {2};
  early["2"]["parent"] = 4;
  early["1"]["daughters"] = {3};
  expect_invalid([&] { read_trk(trk_with(dir, "early.trk", early)); },
                 "frame 2: daughter 2 of label 4 begins before her mother ends (frame 2)");
}

TEST(Trk, DamagedArchivesAreCorrupt) {
  TempDir dir;
  std::string bytes = read_file(kFixture);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x55);
  write_file_atomic(dir / "bad.trk", bytes);
  try {
    read_trk(dir / "bad.trk");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt) << e.what();
  }
  write_file_atomic(dir / "short.trk", read_file(kFixture).substr(0, 100));
  EXPECT_THROW(read_trk(dir / "short.trk"), Error);
}

TEST(Tar, RoundTripsMembersAndPadsToRecords) {
  const std::vector<TarMember> members = {{"a.txt", "hello"}, {"b.bin", std::string(1000, '\x01')}, {"empty", ""}};
  const std::string tar = write_tar(members);
  EXPECT_EQ(tar.size() % 10240, 0u);
  const auto back = read_tar(tar, "test");
  ASSERT_EQ(back.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(back[k].name, members[k].name);
    EXPECT_EQ(back[k].data, members[k].data);
  }
  std::string broken = tar;
  broken[10] = 'X';
  EXPECT_THROW(read_tar(broken, "test"), Error);
}

}  // namespace
}  // namespace tessera::track

namespace tessera::track {
namespace {

TEST(Gunzip, InflatesWhatPythonCompressesAtEveryLevel) {
  if (std::system("/usr/bin/python3 -c 'import gzip' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  TempDir dir;
  // Text with repeats (long matches, dynamic Huffman blocks), random bytes (stored blocks) and two members.
  const std::string script = fmt::format(R"(
import gzip, random
random.seed(3)
text = ''.join(random.choice(['cell ', 'nucleus ', 'track ', str(random.randint(0, 99999)) + ' ']) for _ in range(60000)).encode()
noise = bytes(random.getrandbits(8) for _ in range(70000))
open('{0}/plain', 'wb').write(text + noise + text[:5000])
for level in (0, 1, 6, 9):
    open('{0}/z%d.gz' % level, 'wb').write(gzip.compress(text + noise, compresslevel=level) + gzip.compress(text[:5000], compresslevel=level))
)",
                                         dir.path().string());
  write_file_atomic(dir / "make.py", script);
  ASSERT_EQ(std::system(fmt::format("/usr/bin/python3 {}", (dir / "make.py").string()).c_str()), 0);
  const std::string plain = read_file(dir / "plain");
  for (const int level : {0, 1, 6, 9}) {
    const auto path = dir / fmt::format("z{}.gz", level);
    EXPECT_EQ(gunzip(read_file(path), path.string()), plain) << "level " << level;
  }
}

}  // namespace
}  // namespace tessera::track
