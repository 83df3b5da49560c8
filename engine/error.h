// Errors: one exception type for every user-facing or programming mistake, one macro for
// invariant checks and one for device API calls. Messages name the operation, the file or
// key involved and, where there is one, the fix.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace birdie {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] void throw_check_failure(const char* condition, const char* file, int line,
                                      const std::string& message);

}  // namespace detail
}  // namespace birdie

// BIRDIE_CHECK(condition, message parts...): throws birdie::Error with the message, the
// failed condition and where it was checked. Message parts are streamed, so shapes and
// numbers can be passed directly.
#define BIRDIE_CHECK(condition, ...)                                              \
  do {                                                                            \
    if (!(condition)) [[unlikely]]                                                \
      ::birdie::detail::throw_check_failure(#condition, __FILE__, __LINE__,       \
                                            ::birdie::detail::concat(__VA_ARGS__)); \
  } while (0)

// BIRDIE_CUDA_CHECK(call): every CUDA runtime / library call goes through this. The status
// is turned into an error by an overload of birdie::detail::device_status_message
// (cudaError_t here in engine; cuBLAS and NCCL add theirs next to their code).
#define BIRDIE_CUDA_CHECK(call)                                                        \
  do {                                                                                 \
    auto birdie_status_ = (call);                                                      \
    if (const char* birdie_problem_ = ::birdie::detail::device_status_message(birdie_status_)) \
      ::birdie::detail::throw_check_failure(#call, __FILE__, __LINE__, birdie_problem_); \
  } while (0)
