#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/synth/plankton.hpp"
#include "tessera/synth/timelapse.hpp"

namespace tessera::cli {

void add_synth_commands(CLI::App& app, GlobalOptions&) {
  auto* synth = app.add_subcommand("synth", "Generate synthetic data with exact ground truth");
  synth->require_subcommand(1);
  auto* tl = synth->add_subcommand("timelapse", "Fluorescence-like nuclei time-lapse with masks and lineage");
  auto out = std::make_shared<std::string>();
  auto opt = std::make_shared<synth::TimelapseOptions>();
  tl->add_option("OUT", *out, "Output folder")->required();
  tl->add_option("--positions", opt->positions, "Fields of view");
  tl->add_option("--frames", opt->frames, "Time points per position");
  tl->add_option("--size", opt->size, "Image side in pixels");
  tl->add_option("--nuclei", opt->nuclei, "Nuclei per position at the start");
  tl->add_option("--seed", opt->seed, "Random seed (same seed, same files)");
  tl->add_option("--experiment", opt->experiment, "Experiment name (first folder level)");
  tl->callback([out, opt] {
    const auto s = synth::write_timelapse(*out, *opt);
    fmt::print("wrote {} images, {} tracks, {} divisions to {}\n", s.images, s.tracks, s.divisions, *out);
  });

  auto* pk = synth->add_subcommand("plankton", "Plankton-like RGB images: dark organisms on a vignetted bright background");
  auto pk_out = std::make_shared<std::string>();
  auto pk_opt = std::make_shared<synth::PlanktonOptions>();
  pk->add_option("OUT", *pk_out, "Output folder (stSS/img_IIIII.png and manifest.json)")->required();
  pk->add_option("--images", pk_opt->images, "Number of images");
  pk->add_option("--width", pk_opt->width, "Image width");
  pk->add_option("--height", pk_opt->height, "Image height");
  pk->add_option("--min-objects", pk_opt->min_objects, "Fewest organisms per image");
  pk->add_option("--max-objects", pk_opt->max_objects, "Most organisms per image");
  pk->add_option("--stations", pk_opt->stations, "Station folders the images are spread over");
  pk->add_option("--nested-fraction", pk_opt->nested_fraction, "Share of organisms holding a particle inside");
  pk->add_option("--seed", pk_opt->seed, "Random seed (same seed, same files)");
  pk->callback([pk_out, pk_opt] {
    const auto s = synth::write_plankton(*pk_out, *pk_opt);
    fmt::print("wrote {} images, {} organisms ({} holding a particle) to {}\n", s.images, s.organisms, s.nested, *pk_out);
  });
}

}  // namespace tessera::cli
