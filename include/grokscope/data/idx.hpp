#pragma once
// Reader for the IDX format of MNIST-like datasets (raw or gzip-compressed), with full validation:
// magic number, element type, dimension count, and sizes against the file's length. Any defect is
// an InputError naming the file.
#include <cstdint>
#include <string>
#include <vector>

namespace grokscope {

struct IdxArray {
  std::vector<std::uint32_t> dims;  // e.g. {60000, 28, 28} or {60000}
  std::vector<std::uint8_t> data;   // row-major, unsigned bytes
  std::size_t count() const { return dims.empty() ? 0 : dims[0]; }
  std::size_t item_size() const;    // product of dims[1..]
};

// Reads an unsigned-byte IDX file. `max_items` > 0 reads only the header and that many items.
IdxArray read_idx(const std::string& path, std::size_t max_items = 0);
// Reads only the header (dims) — cheap, used by `validate` to check sizes.
std::vector<std::uint32_t> read_idx_header(const std::string& path);
// Writes an unsigned-byte IDX file (raw, or gzip when the name ends in .gz). Used by the tests.
void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::vector<std::uint8_t>& data);

}  // namespace grokscope
