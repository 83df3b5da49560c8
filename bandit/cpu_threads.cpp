#include "bandit/cpu_threads.h"

#include <cblas.h>

namespace birdie::bandit {

BlasSingleThreadScope::BlasSingleThreadScope() : previous_(openblas_get_num_threads()) {
  if (previous_ != 1) openblas_set_num_threads(1);
}

BlasSingleThreadScope::~BlasSingleThreadScope() {
  if (previous_ != 1) openblas_set_num_threads(previous_);
}

}  // namespace birdie::bandit
