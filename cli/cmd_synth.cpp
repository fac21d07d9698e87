#include <fmt/format.h>

#include "commands.hpp"
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
}

}  // namespace tessera::cli
