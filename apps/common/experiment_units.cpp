#include "apps/common/experiment_units.h"

#include <fstream>
#include <optional>

#include "apps/common/experiment_state.h"
#include "engine/atomic_file.h"
#include "engine/error.h"

namespace birdie::apps {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Json::object();
  Json j = Json::parse(in, nullptr, false);
  BIRDIE_CHECK(!j.is_discarded(), path.string(), " is not valid JSON. Fix: delete it and run the experiment again");
  return j;
}

void write_json(const fs::path& path, const Json& j) { write_file_atomically(path, j.dump(2) + "\n"); }

std::vector<ExperimentUnit> finished_units(const ExperimentConfig& config, const ExperimentOptions& options,
                                           const std::vector<ExperimentUnit>& units, PieceStamp& reference,
                                           std::set<std::string>& code_versions) {
  std::vector<fs::path> roots{config.output};
  roots.insert(roots.end(), options.from.begin(), options.from.end());
  for (const fs::path& root : options.from)
    BIRDIE_CHECK(fs::is_directory(root), "--from ", root.string(), ": no such folder");
  std::vector<ExperimentUnit> found;
  std::optional<PieceStamp> first;
  std::string first_name;
  bool unstamped = false;
  for (const ExperimentUnit& unit : units) {
    for (const fs::path& root : roots) {
      ExperimentUnit located = unit;
      located.folder = root / unit.relative();
      if (!read_experiment_state(located.folder / "experiment_state.json").count("validation")) continue;
      const std::optional<PieceStamp> stamp = read_piece_stamp(located.folder);
      const std::string name = unit.name() + " in " + located.folder.string();
      // Units made before pieces were stamped merge only among themselves.
      if (!stamp || (found.size() > 0 && unstamped)) {
        BIRDIE_CHECK(!stamp && (found.empty() || unstamped), name, (stamp ? " has" : " has no"),
                     " piece.json where ", first_name, (stamp ? " has none" : " has one"),
                     ": the pieces were made by different versions of the experiment program; run them again with one");
        unstamped = true;
      } else if (!first) {
        first = *stamp;
      } else {
        const std::string difference = piece_difference(*first, *stamp, options.accept_other_code);
        BIRDIE_CHECK(difference.empty(), "cannot merge ", name, " with ", first_name, ": made by another ",
                     "experiment, data or code (", difference, "). Fix: run that unit again with the others' "
                     "experiment file, data and code", options.accept_other_code ? "" : ", or pass --accept-other-code "
                     "if only the code changed and the change cannot alter results");
      }
      if (first_name.empty()) first_name = name;
      if (stamp) code_versions.insert(stamp->code + " (" + stamp->commit + ")");
      found.push_back(located);
      break;
    }
  }
  if (first) reference = *first;
  return found;
}

}  // namespace birdie::apps
