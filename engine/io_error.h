// A file that could not be written or read for a reason of the machine, not of the input:
// a full disk, a file-size limit, an I/O error, a read-only file system. The programs end
// with an exit code of its own for it (4, engine/exit_codes.h): retrying elsewhere or
// after freeing space helps, editing the configuration does not.
#pragma once

#include "engine/error.h"

namespace birdie {

class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace birdie
