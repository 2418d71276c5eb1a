#include "grokscope/io/hdf5.hpp"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

#include "grokscope/core/error.hpp"

namespace grokscope::h5 {
namespace {

// HDF5's innermost error description, for messages that say what actually went wrong.
std::string hdf5_message() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

// Automatic stack printing off, once: failures are reported through our errors instead.
void quiet() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  const std::string detail = hdf5_message();
  throw InputError(file, what + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

hid_t check(hid_t id, const File& file, const std::string& what) {
  if (id < 0) fail(file.path(), what);
  return id;
}
void check_status(herr_t status, const File& file, const std::string& what) {
  if (status < 0) fail(file.path(), what);
}

Handle file_access(MPI_Comm comm) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (comm != MPI_COMM_NULL) H5Pset_fapl_mpio(fapl.id(), comm, MPI_INFO_NULL);
  return fapl;
}

Handle string_type(std::size_t size) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), size);
  H5Tset_strpad(type.id(), H5T_STR_NULLTERM);
  return type;
}

Handle open_dataset(const File& file, const std::string& path) {
  return Handle(check(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), file, "cannot open dataset " + path),
                H5Dclose);
}

Handle open_object(const File& file, const std::string& path) {
  return Handle(check(H5Oopen(file.id(), path.c_str(), H5P_DEFAULT), file, "cannot open " + path), H5Oclose);
}

void write_rows_as(const File& file, const std::string& path, hsize_t first, hsize_t count,
                   hid_t memory_type, const void* values) {
  const Handle dataset = open_dataset(file, path);
  const Handle space(H5Dget_space(dataset.id()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank == 0) {
    check_status(H5Dwrite(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), file,
                 "cannot write " + path);
    return;
  }
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), start(dims.size(), 0);
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  if (first + count > dims[0])
    throw UsageError("write of rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                     " past the end of " + path + " (" + std::to_string(dims[0]) + " rows)");
  std::vector<hsize_t> counts = dims;
  start[0] = first;
  counts[0] = count;
  check_status(H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start.data(), nullptr, counts.data(), nullptr),
               file, "cannot select rows of " + path);
  const Handle memory(H5Screate_simple(rank, counts.data(), nullptr), H5Sclose);
  check_status(H5Dwrite(dataset.id(), memory_type, memory.id(), space.id(), H5P_DEFAULT, values), file,
               "cannot write " + path);
}

template <typename T>
std::vector<T> read_all(const File& file, const std::string& path, hid_t memory_type) {
  const Handle dataset = open_dataset(file, path);
  const Handle space(H5Dget_space(dataset.id()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  std::vector<T> values(static_cast<std::size_t>(n));
  if (n > 0)
    check_status(H5Dread(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), file,
                 "cannot read " + path);
  return values;
}

Handle attribute_for_write(const File& file, const std::string& path, const std::string& name, hid_t type) {
  const Handle object = open_object(file, path);
  if (H5Aexists(object.id(), name.c_str()) > 0) H5Adelete(object.id(), name.c_str());
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  return Handle(check(H5Acreate2(object.id(), name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT), file,
                      "cannot create attribute " + name + " on " + path),
                H5Aclose);
}

}  // namespace

hsize_t Shape::elements() const {
  hsize_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}
hsize_t Shape::row_elements() const {
  hsize_t n = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

File File::create(const std::string& path, MPI_Comm comm) {
  quiet();
  File f;
  f.path_ = path;
  const Handle fapl = file_access(comm);
  f.handle_ = Handle(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), f,
                           "cannot create the HDF5 file"),
                     H5Fclose);
  return f;
}

File File::open(const std::string& path, bool writable, MPI_Comm comm) {
  quiet();
  File f;
  f.path_ = path;
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw InputError(path, "missing or not an HDF5 file");
  }
  const Handle fapl = file_access(comm);
  f.handle_ = Handle(check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id()), f,
                           "cannot open the HDF5 file"),
                     H5Fclose);
  return f;
}

void File::flush() { check_status(H5Fflush(id(), H5F_SCOPE_GLOBAL), *this, "cannot flush"); }

void File::close() {
  if (handle_) check_status(H5Fclose(std::exchange(handle_, Handle()).id()), *this, "cannot close");
}

bool exists(const File& file, const std::string& path) {
  // Walk the path so that a missing parent is "false", not an error.
  std::size_t pos = 0;
  while ((pos = path.find('/', pos + 1)) != std::string::npos)
    if (H5Lexists(file.id(), path.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
  const htri_t found = H5Lexists(file.id(), path.c_str(), H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  return found > 0;
}

void create_group(const File& file, const std::string& path) {
  if (exists(file, path)) return;
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  Handle(check(H5Gcreate2(file.id(), path.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT), file,
               "cannot create group " + path),
         H5Gclose);
}

void create_dataset(const File& file, const std::string& path, Type type, const Shape& shape,
                    std::size_t string_size) {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  // Early allocation and a fill value: after this collective call a write is raw data only, so
  // independent writers never touch metadata (results-file.md).
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_ALLOC);
  Handle owned_type;
  hid_t file_type = H5T_NATIVE_DOUBLE;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const float nanf = std::numeric_limits<float>::quiet_NaN();
  const std::int64_t zero = 0;
  switch (type) {
    case Type::Float64:
      file_type = H5T_IEEE_F64LE;
      H5Pset_fill_value(dcpl.id(), H5T_NATIVE_DOUBLE, &nan);
      break;
    case Type::Float32:
      file_type = H5T_IEEE_F32LE;
      H5Pset_fill_value(dcpl.id(), H5T_NATIVE_FLOAT, &nanf);
      break;
    case Type::Int64:
      file_type = H5T_STD_I64LE;
      H5Pset_fill_value(dcpl.id(), H5T_NATIVE_INT64, &zero);
      break;
    case Type::String:
      owned_type = string_type(string_size);
      file_type = owned_type.id();
      break;
  }
  const Handle space(shape.dims.empty() ? H5Screate(H5S_SCALAR)
                                        : H5Screate_simple(static_cast<int>(shape.dims.size()),
                                                           shape.dims.data(), nullptr),
                     H5Sclose);
  Handle(check(H5Dcreate2(file.id(), path.c_str(), file_type, space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT),
               file, "cannot create dataset " + path),
         H5Dclose);
}

Shape shape_of(const File& file, const std::string& path) {
  const Handle dataset = open_dataset(file, path);
  const Handle space(H5Dget_space(dataset.id()), H5Sclose);
  Shape shape;
  shape.dims.resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.id())));
  H5Sget_simple_extent_dims(space.id(), shape.dims.data(), nullptr);
  return shape;
}

void write_rows(const File& file, const std::string& path, hsize_t first, hsize_t count, const double* values) {
  write_rows_as(file, path, first, count, H5T_NATIVE_DOUBLE, values);
}
void write_rows(const File& file, const std::string& path, hsize_t first, hsize_t count,
                const std::int64_t* values) {
  write_rows_as(file, path, first, count, H5T_NATIVE_INT64, values);
}
void write_rows(const File& file, const std::string& path, hsize_t first, hsize_t count, const float* values) {
  write_rows_as(file, path, first, count, H5T_NATIVE_FLOAT, values);
}

void write_string(const File& file, const std::string& path, const std::string& value) {
  const Handle dataset = open_dataset(file, path);
  const Handle type(H5Dget_type(dataset.id()), H5Tclose);
  const std::size_t size = H5Tget_size(type.id());
  std::vector<char> buffer(size, '\0');
  std::memcpy(buffer.data(), value.data(), std::min(value.size(), size - 1));  // truncated, terminated
  check_status(H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), file,
               "cannot write " + path);
}

std::vector<double> read_doubles(const File& file, const std::string& path) {
  return read_all<double>(file, path, H5T_NATIVE_DOUBLE);
}
std::vector<std::int64_t> read_ints(const File& file, const std::string& path) {
  return read_all<std::int64_t>(file, path, H5T_NATIVE_INT64);
}
std::vector<float> read_floats(const File& file, const std::string& path) {
  return read_all<float>(file, path, H5T_NATIVE_FLOAT);
}

std::string read_string(const File& file, const std::string& path) {
  const Handle dataset = open_dataset(file, path);
  const Handle type(H5Dget_type(dataset.id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING) throw InputError(file.path(), path + " is not a string");
  std::vector<char> buffer(H5Tget_size(type.id()) + 1, '\0');
  check_status(H5Dread(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), file,
               "cannot read " + path);
  return std::string(buffer.data());
}

void set_attribute(const File& file, const std::string& path, const std::string& name, const std::string& value) {
  // Variable-length UTF-8 strings: h5py returns them as str.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  const Handle attribute = attribute_for_write(file, path, name, type.id());
  const char* text = value.c_str();
  check_status(H5Awrite(attribute.id(), type.id(), &text), file, "cannot write attribute " + name);
}
void set_attribute(const File& file, const std::string& path, const std::string& name, std::int64_t value) {
  const Handle attribute = attribute_for_write(file, path, name, H5T_STD_I64LE);
  check_status(H5Awrite(attribute.id(), H5T_NATIVE_INT64, &value), file, "cannot write attribute " + name);
}
void set_attribute(const File& file, const std::string& path, const std::string& name, double value) {
  const Handle attribute = attribute_for_write(file, path, name, H5T_IEEE_F64LE);
  check_status(H5Awrite(attribute.id(), H5T_NATIVE_DOUBLE, &value), file, "cannot write attribute " + name);
}

bool has_attribute(const File& file, const std::string& path, const std::string& name) {
  if (!exists(file, path) && path != "/") return false;
  const Handle object = open_object(file, path);
  return H5Aexists(object.id(), name.c_str()) > 0;
}

std::string string_attribute(const File& file, const std::string& path, const std::string& name) {
  const Handle object = open_object(file, path);
  const Handle attribute(check(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), file,
                               "missing attribute " + name + " on " + path),
                         H5Aclose);
  const Handle type(H5Aget_type(attribute.id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING)
    throw InputError(file.path(), "attribute " + name + " on " + path + " is not a string");
  if (H5Tis_variable_str(type.id()) > 0) {
    char* text = nullptr;
    Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory.id(), H5T_VARIABLE);
    H5Tset_cset(memory.id(), H5Tget_cset(type.id()));
    check_status(H5Aread(attribute.id(), memory.id(), &text), file, "cannot read attribute " + name);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  std::vector<char> buffer(H5Tget_size(type.id()) + 1, '\0');
  check_status(H5Aread(attribute.id(), type.id(), buffer.data()), file, "cannot read attribute " + name);
  return std::string(buffer.data());
}

std::int64_t int_attribute(const File& file, const std::string& path, const std::string& name) {
  const Handle object = open_object(file, path);
  const Handle attribute(check(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), file,
                               "missing attribute " + name + " on " + path),
                         H5Aclose);
  std::int64_t value = 0;
  check_status(H5Aread(attribute.id(), H5T_NATIVE_INT64, &value), file, "cannot read attribute " + name);
  return value;
}

void copy_object(const File& from, const std::string& from_path, const File& to, const std::string& to_path) {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  check_status(H5Ocopy(from.id(), from_path.c_str(), to.id(), to_path.c_str(), H5P_DEFAULT, lcpl.id()), to,
               "cannot copy " + from_path + " from " + from.path());
}

void copy_attributes(const File& from, const File& to, const std::string& path) {
  const Handle source = open_object(from, path), target = open_object(to, path);
  struct Context {
    hid_t target;
  } context{target.id()};
  const herr_t status = H5Aiterate2(
      source.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t object, const char* name, const H5A_info_t*, void* data) -> herr_t {
        const hid_t target = static_cast<Context*>(data)->target;
        const Handle a(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
        const Handle type(H5Aget_type(a.id()), H5Tclose), space(H5Aget_space(a.id()), H5Sclose);
        std::vector<char> buffer(H5Tget_size(type.id()) * std::max<hssize_t>(1, H5Sget_simple_extent_npoints(space.id())));
        if (H5Aread(a.id(), type.id(), buffer.data()) < 0) return -1;
        if (H5Aexists(target, name) > 0) H5Adelete(target, name);
        const Handle b(H5Acreate2(target, name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        const herr_t written = H5Awrite(b.id(), type.id(), buffer.data());
        if (H5Tis_variable_str(type.id()) > 0) H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, buffer.data());
        return written < 0 ? -1 : 0;
      },
      &context);
  check_status(status, to, "cannot copy the attributes of " + path + " from " + from.path());
}

std::vector<std::string> children(const File& file, const std::string& path) {
  std::vector<std::string> names;
  const Handle group(check(H5Gopen2(file.id(), path.c_str(), H5P_DEFAULT), file, "cannot open group " + path),
                     H5Gclose);
  H5Literate(
      group.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

}  // namespace grokscope::h5
