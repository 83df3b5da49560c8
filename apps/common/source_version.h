// Which code built this program: the version that experiment pieces are compared by
// (apps/common/experiment_pieces.h), so that results of several jobs are merged only when
// the same code made them.
#pragma once

#include <string_view>

namespace birdie::apps {

// 16 hex digits of a SHA-256 over the sources and configuration files (source_version.cmake):
// the same on every machine for the same tree.
std::string_view source_version();
// The git commit ("unknown" without git; "... with changes" for a modified tree).
std::string_view source_commit();

}  // namespace birdie::apps
