// The safetensors format (8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data), readable by
// the Python `safetensors` package and PyTorch. Files are written to a temporary name,
// flushed to disk and renamed, so a crash never leaves a half-written file under the
// real name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace birdie::model {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The size and checksum (engine/checksum.h) of a file as written.
struct FileDigest {
  std::uint64_t bytes = 0;
  std::uint64_t checksum = 0;
  bool operator==(const FileDigest&) const = default;
};

// Tensors may live on any device (they are copied to the host). Metadata values are
// strings, as the format requires; `format: pt` is added for PyTorch.
FileDigest write_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                             const std::map<std::string, std::string>& metadata);

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  NamedTensors tensors;  // CPU tensors, in file order

  bool contains(const std::string& name) const;
  const Tensor& at(const std::string& name) const;  // throws naming the file and tensor
  std::filesystem::path path;
};

// Validates the header against the file (dtypes, shapes, byte ranges, length) and throws
// an Error naming the file, the place (bytes, tensor, field) and the problem when anything
// is off; every size is checked against the file's before anything is allocated.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

}  // namespace birdie::model
