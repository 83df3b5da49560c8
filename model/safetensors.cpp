#include "model/safetensors.h"

#include <climits>
#include <cstring>
#include <optional>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/checksum.h"
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

}  // namespace

FileDigest write_safetensors(const fs::path& path, const NamedTensors& tensors,
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
  return {bytes.size(), checksum64(bytes.data(), bytes.size())};
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

namespace {

// A dimension list from the header: non-negative whole numbers whose product, times the
// element size, fits in 64 bits (so it can be compared with the byte range, never wrapped).
std::optional<std::uint64_t> checked_byte_count(const nlohmann::ordered_json& shape, std::size_t element_size,
                                                Shape& out) {
  std::uint64_t bytes = element_size;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned()) return std::nullopt;
    const std::uint64_t n = d.get<std::uint64_t>();
    if (n > std::uint64_t(INT64_MAX) || (n != 0 && bytes > UINT64_MAX / n)) return std::nullopt;
    bytes *= n;
    out.push_back(static_cast<std::int64_t>(n));
  }
  return bytes;
}

}  // namespace

SafetensorsFile read_safetensors(const fs::path& path) {
  std::error_code error;
  BIRDIE_CHECK(fs::is_regular_file(path, error), "cannot open ", path.string(), ": ",
               fs::exists(path, error) ? "not a regular file" : "no such file");
  std::ifstream in(path, std::ios::binary);
  BIRDIE_CHECK(in.good(), "cannot open ", path.string(), ": ", std::strerror(errno));
  const std::uint64_t file_size = fs::file_size(path, error);
  BIRDIE_CHECK(!error, "cannot read the size of ", path.string(), ": ", error.message());
  auto corrupt = [&](const std::string& what) {
    return Error(detail::concat(path.string(), ": not a valid safetensors file: ", what,
                                " (the file is truncated or corrupt; use another checkpoint)"));
  };
  if (file_size < 8) throw corrupt(detail::concat("the file is ", file_size, " bytes, shorter than its 8-byte header length"));
  unsigned char length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
  // The format's own limit on the header (100 MB), and the file's size, before allocating.
  if (header_length > file_size - 8 || header_length > 100'000'000)
    throw corrupt(detail::concat("the header length (bytes 0-7) is ", header_length, " but the file holds ",
                                 file_size - 8, " bytes after it", header_length > 100'000'000 ? " (at most 100 MB)" : ""));
  std::string json(header_length, '\0');
  in.read(json.data(), static_cast<std::streamsize>(header_length));
  if (!in.good()) throw corrupt("cannot read the header");
  const std::string header_place = detail::concat("the JSON header (bytes 8-", 8 + header_length, ")");
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(detail::concat(header_place, " is not JSON (", e.what(), ")"));
  }
  if (!header.is_object()) throw corrupt(header_place + " is not a JSON object");
  const std::uint64_t data_begin = 8 + header_length, data_size = file_size - data_begin;
  SafetensorsFile file;
  file.path = path;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw corrupt(header_place + ": __metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) throw corrupt(detail::concat(header_place, ": metadata '", key, "' is not a string"));
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = detail::concat(header_place, ": tensor '", name, "'");
    if (!entry.is_object()) throw corrupt(where + " is not an object {dtype, shape, data_offsets}");
    const auto dtype_entry = entry.find("dtype");
    if (dtype_entry == entry.end() || !dtype_entry->is_string()) throw corrupt(where + ": \"dtype\" is missing or not a string");
    const DType dtype = dtype_from_safetensors(dtype_entry->get<std::string>(), path, name);
    const auto shape_entry = entry.find("shape");
    if (shape_entry == entry.end() || !shape_entry->is_array())
      throw corrupt(where + ": \"shape\" is missing or not a list");
    Shape shape;
    const std::optional<std::uint64_t> bytes = checked_byte_count(*shape_entry, dtype_size(dtype), shape);
    if (!bytes)
      throw corrupt(detail::concat(where, ": the shape ", shape_entry->dump(), " is not a list of whole numbers ≥ 0 "
                                   "whose size fits in 64 bits"));
    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      throw corrupt(where + ": \"data_offsets\" is missing or not [begin, end] in whole numbers ≥ 0");
    const std::uint64_t begin = (*offsets)[0].get<std::uint64_t>(), end = (*offsets)[1].get<std::uint64_t>();
    if (begin > end || end > data_size || end - begin != *bytes)
      throw corrupt(detail::concat(where, ": data_offsets [", begin, ", ", end, "] ",
                                   end > data_size ? detail::concat("reach past the ", data_size, " bytes of data")
                                                   : detail::concat("do not hold the ", *bytes, " bytes of shape ",
                                                                    shape_string(shape), " in ", dtype_name(dtype))));
    Tensor tensor = Tensor::empty(shape, dtype);
    in.seekg(static_cast<std::streamoff>(data_begin + begin));
    in.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(tensor.nbytes()));
    if (!in.good())
      throw corrupt(detail::concat("cannot read the data of tensor '", name, "' (bytes ", data_begin + begin, "-",
                                   data_begin + end, ")"));
    file.tensors.emplace_back(name, tensor);
  }
  return file;
}

}  // namespace birdie::model
