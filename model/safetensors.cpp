#include "model/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace birdie::model {

namespace fs = std::filesystem;

namespace {

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::bf16: return "BF16";
    case DType::i32: return "I32";
    case DType::f64: return "F64";
  }
  return "?";
}

DType dtype_from_safetensors(const std::string& name, const fs::path& path, const std::string& tensor) {
  for (DType d : {DType::f32, DType::bf16, DType::i32, DType::f64})
    if (name == safetensors_dtype(d)) return d;
  throw Error(detail::concat(path.string(), ": tensor '", tensor, "' has dtype ", name,
                             ", which this engine does not read (F32, BF16, I32, F64)"));
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& bytes) {
  const fs::path temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  BIRDIE_CHECK(fd >= 0, "cannot create ", temporary.string(), ": ", std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      fs::remove(temporary);
      throw Error(detail::concat("cannot write ", temporary.string(), ": ", reason,
                                 " (is the disk full?)"));
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  BIRDIE_CHECK(synced, "cannot flush ", temporary.string(), " to disk: ", std::strerror(errno));
  fs::rename(temporary, path);
  sync_directory(path.parent_path());
}

void write_safetensors(const fs::path& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  meta["format"] = "pt";
  for (const auto& [key, value] : metadata) meta[key] = value;
  header["__metadata__"] = meta;
  std::size_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    BIRDIE_CHECK(!header.contains(name), path.string(), ": tensor name '", name, "' used twice");
    header[name] = {{"dtype", safetensors_dtype(tensor.dtype())},
                    {"shape", tensor.shape()},
                    {"data_offsets", {offset, offset + tensor.nbytes()}}};
    offset += tensor.nbytes();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string bytes(8, '\0');
  const std::uint64_t length = json.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  bytes += json;
  bytes.reserve(bytes.size() + offset);
  for (const auto& [name, tensor] : tensors) {
    const Tensor host = tensor.is_cpu() ? tensor : tensor.to(Device::cpu);
    bytes.append(static_cast<const char*>(host.raw_data()), host.nbytes());
  }
  write_file_atomically(path, bytes);
}

bool SafetensorsFile::contains(const std::string& name) const {
  for (const auto& entry : tensors)
    if (entry.first == name) return true;
  return false;
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& entry : tensors)
    if (entry.first == name) return entry.second;
  throw Error(detail::concat(path.string(), ": no tensor named '", name, "'"));
}

SafetensorsFile read_safetensors(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  BIRDIE_CHECK(in.good(), "cannot open ", path.string(), ": ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::uint64_t file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  auto corrupt = [&](const std::string& what) {
    return Error(detail::concat(path.string(), ": not a valid safetensors file: ", what,
                                " (the file is truncated or corrupt; use another checkpoint)"));
  };
  if (file_size < 8) throw corrupt("shorter than its 8-byte header length");
  unsigned char length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
  if (header_length > file_size - 8 || header_length > (std::uint64_t(1) << 30))
    throw corrupt(detail::concat("header length ", header_length, " exceeds the file size ", file_size));
  std::string json(header_length, '\0');
  in.read(json.data(), static_cast<std::streamsize>(header_length));
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(detail::concat("the header is not JSON (", e.what(), ")"));
  }
  if (!header.is_object()) throw corrupt("the header is not a JSON object");
  const std::uint64_t data_size = file_size - 8 - header_length;
  SafetensorsFile file;
  file.path = path;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw corrupt("__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) throw corrupt(detail::concat("metadata '", key, "' is not a string"));
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    try {
      const DType dtype = dtype_from_safetensors(entry.at("dtype").get<std::string>(), path, name);
      const Shape shape = entry.at("shape").get<Shape>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      for (auto d : shape)
        if (d < 0) throw corrupt(detail::concat("tensor '", name, "' has a negative dimension"));
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size ||
          offsets[1] - offsets[0] != std::uint64_t(shape_numel(shape)) * dtype_size(dtype))
        throw corrupt(detail::concat("tensor '", name, "' has byte range inconsistent with its shape ",
                                     shape_string(shape), " or outside the file"));
      Tensor tensor = Tensor::empty(shape, dtype);
      in.seekg(static_cast<std::streamoff>(8 + header_length + offsets[0]));
      in.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(tensor.nbytes()));
      if (!in.good()) throw corrupt(detail::concat("cannot read the data of tensor '", name, "'"));
      file.tensors.emplace_back(name, tensor);
    } catch (const nlohmann::json::exception& e) {
      throw corrupt(detail::concat("entry '", name, "' is malformed (", e.what(), ")"));
    }
  }
  return file;
}

}  // namespace birdie::model
