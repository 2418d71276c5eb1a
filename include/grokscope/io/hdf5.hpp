#pragma once
// Small RAII layer over the HDF5 C API, in the spirit of HighFive: every C call is checked and a
// failure becomes a grokscope error that names the file and object and carries HDF5's own message
// (the library's automatic stack printing is switched off). Only what grokscope needs: files
// (serial or MPI-IO), groups, fixed-shape datasets with early allocation and NaN fill, attributes,
// and hyperslab I/O along the first dimension.
//
// Which calls are collective when the file is open with the MPI-IO driver (HDF5 1.10):
//   create/open/close of files, groups and datasets, every attribute write, flush   — collective
//   write_rows / read_rows (raw data, H5FD_MPIO_INDEPENDENT transfer)               — independent
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace grokscope::h5 {

// An owned hid_t, closed with the right H5*close on destruction.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t id() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

enum class Type { Float64, Float32, Int64, String };  // String: fixed length, null-terminated

struct Shape {
  std::vector<hsize_t> dims;  // empty = scalar
  hsize_t elements() const;
  hsize_t row_elements() const;  // elements per index of the first dimension
};

class File {
 public:
  // comm = MPI_COMM_NULL: serial (sec2) driver. Otherwise the MPI-IO driver; every rank of comm
  // must make the same call.
  static File create(const std::string& path, MPI_Comm comm = MPI_COMM_NULL);
  static File open(const std::string& path, bool writable, MPI_Comm comm = MPI_COMM_NULL);
  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }
  void flush();   // collective under MPI-IO
  void close();   // collective under MPI-IO

 private:
  Handle handle_;
  std::string path_;
};

// Objects are addressed by absolute paths inside the file ("/runs/r000000/steps").
bool exists(const File& file, const std::string& path);
// Creates the group and any missing parents.
void create_group(const File& file, const std::string& path);
// A contiguous dataset, space allocated at creation, filled with NaN (floats), 0 (ints) or "".
// `string_size` is the fixed length of String datasets.
void create_dataset(const File& file, const std::string& path, Type type, const Shape& shape,
                    std::size_t string_size = 0);
Shape shape_of(const File& file, const std::string& path);

// Raw data along the first dimension: rows [first, first + count) of the dataset; a scalar dataset
// is one row. Values are converted to and from the dataset's type by HDF5.
void write_rows(const File& file, const std::string& path, hsize_t first, hsize_t count,
                const double* values);
void write_rows(const File& file, const std::string& path, hsize_t first, hsize_t count,
                const std::int64_t* values);
void write_rows(const File& file, const std::string& path, hsize_t first, hsize_t count,
                const float* values);
void write_string(const File& file, const std::string& path, const std::string& value);
std::vector<double> read_doubles(const File& file, const std::string& path);
std::vector<std::int64_t> read_ints(const File& file, const std::string& path);
std::vector<float> read_floats(const File& file, const std::string& path);
std::string read_string(const File& file, const std::string& path);

// Attributes on the object at `path` (collective under MPI-IO).
void set_attribute(const File& file, const std::string& path, const std::string& name,
                   const std::string& value);
void set_attribute(const File& file, const std::string& path, const std::string& name,
                   std::int64_t value);
void set_attribute(const File& file, const std::string& path, const std::string& name, double value);
bool has_attribute(const File& file, const std::string& path, const std::string& name);
std::string string_attribute(const File& file, const std::string& path, const std::string& name);
std::int64_t int_attribute(const File& file, const std::string& path, const std::string& name);

// Copies an object (group or dataset, recursively, attributes included) between files (serial).
void copy_object(const File& from, const std::string& from_path, const File& to, const std::string& to_path);
// Copies every attribute of the object at `path` in `from` onto the same path in `to` (serial).
void copy_attributes(const File& from, const File& to, const std::string& path);

// Names of the direct children of a group, in HDF5's (alphabetical) order.
std::vector<std::string> children(const File& file, const std::string& path);

}  // namespace grokscope::h5
