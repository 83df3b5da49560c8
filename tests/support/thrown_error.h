// The message of the birdie::Error a call throws, for the tests that check several parts
// of one message.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "engine/error.h"

namespace birdie::testing {

// What `call` throws; without an Error the test case fails with `no_throw`.
inline std::string thrown_error(const std::function<void()>& call, const char* no_throw) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL(no_throw);
  return {};
}

}  // namespace birdie::testing
