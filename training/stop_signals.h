// SIGINT / SIGTERM ask a run to stop: the training loop checks stop_requested() after
// each step, writes a checkpoint and exits cleanly. A second signal exits at once.
#pragma once

namespace birdie::training {

void install_stop_handlers();
bool stop_requested();

}  // namespace birdie::training
