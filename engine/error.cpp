#include "engine/error.h"

namespace birdie::detail {

void throw_check_failure(const char* condition, const char* file, int line,
                         const std::string& message) {
  throw Error(concat(message, " [", condition, " failed at ", file, ":", line, "]"));
}

}  // namespace birdie::detail
