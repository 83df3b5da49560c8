#include "model/architecture.h"

#include <string>

#include "engine/error.h"

namespace birdie::model {

namespace {

struct Registered {
  Architecture architecture;
  std::string_view name;
  const ArchitectureConfig* config;
};

#define BIRDIE_REGISTER_ARCHITECTURE(name) Registered{Architecture::name, #name, &name##_architecture},
constexpr Registered registered[] = {BIRDIE_ARCHITECTURES(BIRDIE_REGISTER_ARCHITECTURE)};
#undef BIRDIE_REGISTER_ARCHITECTURE

const Registered* find(Architecture architecture) {
  const auto index = static_cast<std::size_t>(architecture);
  return index < std::size(registered) ? &registered[index] : nullptr;
}

const ArchitectureKey* find_key(Architecture architecture, std::string_view key) {
  for (const ArchitectureKey& k : architecture_config(architecture).keys)
    if (k.key == key) return &k;
  return nullptr;
}

}  // namespace

const ArchitectureConfig& architecture_config(Architecture architecture) {
  const Registered* r = find(architecture);
  BIRDIE_CHECK(r != nullptr, "model.architecture ", static_cast<int>(architecture), " is not a known architecture");
  return *r->config;
}

Architecture parse_architecture(std::string_view name) {
  std::string known;
  for (const Registered& r : registered) {
    if (r.name == name) return r.architecture;
    known += detail::concat(known.empty() ? "" : ", ", "\"", r.name, "\"");
  }
  throw Error(detail::concat("model.architecture = '", name, "' is not one of ", known));
}

std::string_view architecture_name(Architecture architecture) {
  const Registered* r = find(architecture);
  return r != nullptr ? r->name : "invalid";
}

bool architecture_reads(Architecture architecture, std::string_view key) {
  return find_key(architecture, key) != nullptr;
}

bool architecture_requires(Architecture architecture, std::string_view key) {
  const ArchitectureKey* k = find_key(architecture, key);
  return k != nullptr && k->required;
}

void check_recurrence_state(const ModelConfig& c) {
  BIRDIE_CHECK(c.state > 0, "model.state must be positive, got ", c.state);
  BIRDIE_CHECK(c.bidirectional == BidirectionalLayers::none || c.state % 2 == 0,
               "model.state must be even when blocks are bidirectional (the state is split "
               "into a forward and a reverse half), got ", c.state);
}

void check_mlp_hidden(const ModelConfig& c) {
  BIRDIE_CHECK(c.mlp_hidden > 0, "model.mlp_hidden must be positive for model.architecture = \"",
               architecture_name(c.architecture), "\" (the gated MLP's width), got ", c.mlp_hidden);
}

}  // namespace birdie::model
