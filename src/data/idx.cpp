#include "grokscope/data/idx.hpp"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "grokscope/core/error.hpp"

namespace grokscope {
namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;

// gzopen reads plain files transparently, so one code path serves raw and .gz files.
struct GzFile {
  gzFile handle;
  std::string path;
  explicit GzFile(const std::string& p, const char* mode) : handle(gzopen(p.c_str(), mode)), path(p) {
    if (handle == nullptr)
      throw InputError(p, std::string("cannot open (") + std::strerror(errno ? errno : ENOENT) + ")");
  }
  ~GzFile() {
    if (handle != nullptr) gzclose(handle);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads up to n bytes; returns how many were read. A corrupt gzip stream is an error.
  std::size_t read(void* buffer, std::size_t n) {
    std::size_t done = 0;
    auto* out = static_cast<unsigned char*>(buffer);
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      const int got = gzread(handle, out + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(handle, &code);
        throw InputError(path, std::string("corrupt or unreadable data (") + message + ")");
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }
};

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

std::vector<std::uint32_t> read_header(GzFile& file) {
  std::array<unsigned char, 4> magic{};
  if (file.read(magic.data(), 4) != 4) throw InputError(file.path, "too short for an IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    throw InputError(file.path, "not an IDX file (bad magic number; expected 0x00 0x00 at the start)");
  if (magic[2] != kUnsignedByte)
    throw InputError(file.path, "unsupported IDX element type 0x" + std::to_string(magic[2]) +
                                    " (only unsigned bytes, 0x08, are supported)");
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 4)
    throw InputError(file.path, "IDX dimension count " + std::to_string(ndims) + " is not in 1..4");
  std::vector<std::uint32_t> dims(ndims);
  std::array<unsigned char, 4> word{};
  for (int d = 0; d < ndims; ++d) {
    if (file.read(word.data(), 4) != 4) throw InputError(file.path, "truncated IDX header");
    dims[d] = big_endian(word.data());
    if (dims[d] == 0 && d > 0) throw InputError(file.path, "IDX dimension " + std::to_string(d) + " is 0");
  }
  return dims;
}

}  // namespace

std::size_t IdxArray::item_size() const {
  std::size_t size = 1;
  for (std::size_t d = 1; d < dims.size(); ++d) size *= dims[d];
  return size;
}

std::vector<std::uint32_t> read_idx_header(const std::string& path) {
  GzFile file(path, "rb");
  return read_header(file);
}

IdxArray read_idx(const std::string& path, std::size_t max_items) {
  GzFile file(path, "rb");
  IdxArray array;
  array.dims = read_header(file);
  const std::size_t items = array.count();
  const std::size_t wanted = (max_items > 0 && max_items < items) ? max_items : items;
  const std::size_t bytes = wanted * array.item_size();
  array.data.resize(bytes);
  const std::size_t got = file.read(array.data.data(), bytes);
  if (got != bytes)
    throw InputError(path, "truncated: the header promises " + std::to_string(items) + " items of " +
                               std::to_string(array.item_size()) + " bytes but only " +
                               std::to_string(got) + " of the first " + std::to_string(bytes) +
                               " bytes are there");
  if (wanted == items) {
    unsigned char extra = 0;
    if (file.read(&extra, 1) != 0)
      throw InputError(path, "longer than its header says (" + std::to_string(items) + " items of " +
                                 std::to_string(array.item_size()) + " bytes): corrupt or wrong file");
  }
  array.dims[0] = static_cast<std::uint32_t>(wanted);
  return array;
}

void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::vector<std::uint8_t>& data) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  GzFile file(path, gz ? "wb" : "wbT");
  std::vector<unsigned char> header = {0, 0, kUnsignedByte, static_cast<unsigned char>(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<unsigned char>(d >> shift));
  if (gzwrite(file.handle, header.data(), static_cast<unsigned>(header.size())) != int(header.size()) ||
      (!data.empty() &&
       gzwrite(file.handle, data.data(), static_cast<unsigned>(data.size())) != int(data.size())))
    throw InputError(path, "cannot write");
}

}  // namespace grokscope
