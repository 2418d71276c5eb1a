// grokscope geometry INPUT [--dataset NAME] [--labels NAME] [--n-t 200] [--seed 0] [--kappa 0]
//                          [--methods mftma,glue,simcap] [--threads 0] [--json] [--out FILE.h5]
//
// Manifold geometry of anyone's data. INPUT is an HDF5 file (a dataset of shape (P, M, N), or
// (n, N) with an integer label vector for ragged manifolds) or a .npy file of the same shapes
// (labels from --labels FILE.npy). Under `mpiexec -n R` the samples are sharded over the ranks,
// and GLUE's also over each rank's --threads; the numbers depend on neither.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/dist/mpi.hpp"
#include "grokscope/geometry/glue.hpp"
#include "grokscope/geometry/mftma.hpp"
#include "grokscope/geometry/simcap.hpp"
#include "grokscope/io/hdf5.hpp"

namespace grokscope::cli {
namespace {

struct Array {
  std::vector<double> values;
  std::vector<std::size_t> shape;
};

// NumPy's .npy format, version 1–3: magic, header length, a Python dict literal with descr,
// fortran_order and shape, then the raw C-order data. Little-endian f4/f8/i4/i8 only.
Array read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the file");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw InputError(path, "not a .npy file (bad magic)");
  std::uint32_t header_length = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_length = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_length = b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t(b[3]) << 24);
  }
  std::string header(header_length, '\0');
  if (!in.read(header.data(), header_length)) throw InputError(path, "truncated .npy header");
  auto field = [&](const std::string& key) {
    const auto at = header.find("'" + key + "'");
    if (at == std::string::npos) throw InputError(path, ".npy header lacks '" + key + "'");
    return header.substr(header.find(':', at) + 1);
  };
  const std::string descr_field = field("descr");
  const auto q1 = descr_field.find('\''), q2 = descr_field.find('\'', q1 + 1);
  const std::string descr = descr_field.substr(q1 + 1, q2 - q1 - 1);
  if (field("fortran_order").find("True") < field("fortran_order").find(','))
    throw InputError(path, "Fortran-ordered .npy arrays are not supported (save with C order)");
  Array a;
  const std::string shape_field = field("shape");
  std::stringstream dims(shape_field.substr(shape_field.find('(') + 1, shape_field.find(')') - shape_field.find('(') - 1));
  for (std::string d; std::getline(dims, d, ',');)
    if (d.find_first_not_of(" ") != std::string::npos) a.shape.push_back(std::stoul(d));
  std::size_t n = 1;
  for (auto d : a.shape) n *= d;
  a.values.resize(n);
  auto read_as = [&](auto sample) {
    std::vector<decltype(sample)> raw(n);
    if (!in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(n * sizeof(sample))))
      throw InputError(path, "truncated .npy data (expected " + std::to_string(n) + " values)");
    for (std::size_t i = 0; i < n; ++i) a.values[i] = static_cast<double>(raw[i]);
  };
  if (descr == "<f8") read_as(double{});
  else if (descr == "<f4") read_as(float{});
  else if (descr == "<i8") read_as(std::int64_t{});
  else if (descr == "<i4") read_as(std::int32_t{});
  else throw InputError(path, "unsupported .npy dtype '" + descr + "' (use float32/float64, int32/int64 labels)");
  return a;
}

Array read_hdf5(const std::string& path, const std::string& name) {
  const h5::File file = h5::File::open(path, false);
  const std::string full = name.empty() || name[0] != '/' ? "/" + name : name;
  if (name.empty() || !h5::exists(file, full)) throw InputError(path, "no dataset '" + name + "' (pass --dataset NAME)");
  Array a;
  for (auto d : h5::shape_of(file, full).dims) a.shape.push_back(d);
  a.values = h5::read_doubles(file, full);
  return a;
}

bool is_npy(const std::string& path) { return path.size() > 4 && path.substr(path.size() - 4) == ".npy"; }

std::vector<Eigen::MatrixXd> manifolds_from(const Array& x, const Array* labels, const std::string& input) {
  std::vector<Eigen::MatrixXd> out;
  if (x.shape.size() == 3) {
    if (labels) throw UsageError(input + ": a (P, M, N) array needs no labels");
    const std::size_t P = x.shape[0], M = x.shape[1], N = x.shape[2];
    for (std::size_t p = 0; p < P; ++p) {
      Eigen::MatrixXd m(N, M);
      for (std::size_t i = 0; i < M; ++i)
        for (std::size_t j = 0; j < N; ++j) m(j, i) = x.values[(p * M + i) * N + j];
      out.push_back(std::move(m));
    }
    return out;
  }
  if (x.shape.size() != 2)
    throw UsageError(input + ": expected a (P, M, N) array, or (n, N) with labels; got " + std::to_string(x.shape.size()) + " dimensions");
  if (!labels) throw UsageError(input + ": an (n, N) array needs a label vector (--labels)");
  const std::size_t n = x.shape[0], N = x.shape[1];
  if (labels->values.size() != n)
    throw UsageError("labels: " + std::to_string(labels->values.size()) + " labels for " + std::to_string(n) + " points");
  std::map<long, std::vector<std::size_t>> rows;
  for (std::size_t i = 0; i < n; ++i) {
    const double l = labels->values[i];
    if (l != std::floor(l) || !std::isfinite(l)) throw UsageError("labels: value " + std::to_string(l) + " is not an integer");
    rows[static_cast<long>(l)].push_back(i);
  }
  for (const auto& [label, members] : rows) {
    Eigen::MatrixXd m(N, static_cast<long>(members.size()));
    for (std::size_t k = 0; k < members.size(); ++k)
      for (std::size_t j = 0; j < N; ++j) m(j, k) = x.values[members[k] * N + j];
    out.push_back(std::move(m));
  }
  return out;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string json_array(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_number(v[i]);
  return s + "]";
}

}  // namespace

Command add_geometry(CLI::App& app, MpiEnvironment& mpi) {
  struct Args {
    std::string input, dataset, labels, out, methods = "mftma,glue";
    int n_t = 200;
    int threads = 0;
    std::uint64_t seed = 0;
    double kappa = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("input", a->input, "HDF5 or .npy file: (P, M, N) or (n, N) with labels")->required();
  app.add_option("--dataset", a->dataset, "dataset name inside an HDF5 input");
  app.add_option("--labels", a->labels, "label vector: a dataset name (HDF5 input) or a .npy file");
  app.add_option("--n-t", a->n_t, "Gaussian samples per manifold")->check(CLI::PositiveNumber);
  app.add_option("--seed", a->seed, "random seed");
  app.add_option("--threads", a->threads, "GLUE threads per rank (0 = the node's cores divided by its ranks, at most the cores the rank is bound to)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--kappa", a->kappa, "margin (only 0 is supported)");
  app.add_option("--methods", a->methods, "comma-separated: mftma, glue, simcap");
  app.add_flag("--json", a->json, "print one JSON object");
  app.add_option("--out", a->out, "also write the results to this HDF5 file");
  app.footer("Example:\n  grokscope geometry acts.h5 --dataset layer2 --json\n"
             "  mpiexec -n 2 grokscope geometry x.npy --labels y.npy --methods mftma,glue,simcap");
  return [a, &mpi]() {
    std::set<std::string> methods;
    std::stringstream list(a->methods);
    for (std::string m; std::getline(list, m, ',');) {
      if (m != "mftma" && m != "glue" && m != "simcap")
        throw UsageError("--methods: unknown method '" + m + "' (choose from mftma, glue, simcap)");
      methods.insert(m);
    }
    const Array x = is_npy(a->input) ? read_npy(a->input) : read_hdf5(a->input, a->dataset);
    Array labels;
    if (!a->labels.empty()) labels = is_npy(a->labels) ? read_npy(a->labels) : read_hdf5(a->input, a->labels);
    const auto manifolds = manifolds_from(x, a->labels.empty() ? nullptr : &labels, a->input);
    MpiCommunicator world(MPI_COMM_WORLD);

    std::vector<std::pair<std::string, std::string>> fields;  // JSON key -> value text
    std::vector<std::pair<std::string, std::vector<double>>> datasets;
    // The ranks read the input at their own pace; timing from a common start measures the engine,
    // not the skew between the ranks' reads (up to half a second for a 38 MB .npy).
    world.barrier();
    const auto started = std::chrono::steady_clock::now();
    fields.emplace_back("P", std::to_string(manifolds.size()));
    fields.emplace_back("N", std::to_string(manifolds.front().rows()));
    if (methods.count("mftma")) {
      MftmaOptions o;
      o.n_t = a->n_t;
      o.seed = a->seed;
      o.kappa = a->kappa;
      const MftmaResult r = mftma(manifolds, o, &world);
      fields.emplace_back("capacity", json_number(r.capacity));
      fields.emplace_back("radius", json_number(r.radius));
      fields.emplace_back("dimension", json_number(r.dimension));
      fields.emplace_back("center_correlation", json_number(r.center_correlation));
      fields.emplace_back("K", std::to_string(r.K));
      fields.emplace_back("per_manifold", "{\"capacity\": " + json_array(r.capacity_per_manifold) +
                                              ", \"radius\": " + json_array(r.radius_per_manifold) +
                                              ", \"dimension\": " + json_array(r.dimension_per_manifold) + "}");
      datasets.push_back({"mftma/capacity", {r.capacity}});
      datasets.push_back({"mftma/radius", {r.radius}});
      datasets.push_back({"mftma/dimension", {r.dimension}});
      datasets.push_back({"mftma/center_correlation", {r.center_correlation}});
      datasets.push_back({"mftma/K", {double(r.K)}});
      datasets.push_back({"mftma/per_manifold/capacity", r.capacity_per_manifold});
      datasets.push_back({"mftma/per_manifold/radius", r.radius_per_manifold});
      datasets.push_back({"mftma/per_manifold/dimension", r.dimension_per_manifold});
    }
    if (methods.count("glue")) {
      GlueOptions o;
      o.n_t = a->n_t;
      o.seed = a->seed;
      o.threads = threads_per_rank(a->threads, mpi.node_size());
      if (const std::string w = binding_warning(o.threads, "--threads"); !w.empty()) logging::warn(w);
      const GlueResult r = glue(manifolds, o, &world);
      const std::pair<const char*, double> g[] = {
          {"capacity", r.capacity}, {"radius", r.radius}, {"dimension", r.dimension}, {"utility", r.utility},
          {"center_alignment", r.center_alignment}, {"axis_alignment", r.axis_alignment},
          {"center_axis_alignment", r.center_axis_alignment}, {"identity_error", r.identity_error}};
      std::string obj = "{";
      for (const auto& [k, v] : g) {
        obj += std::string(obj.size() > 1 ? ", " : "") + "\"" + k + "\": " + json_number(v);
        datasets.push_back({std::string("glue/") + k, {v}});
      }
      fields.emplace_back("glue", obj + "}");
    }
    if (methods.count("simcap")) {
      SimcapOptions o;
      o.seed = a->seed;
      const SimcapResult r = simulated_capacity(manifolds, o, &world);
      fields.emplace_back("simcap", "{\"capacity\": " + json_number(r.capacity) +
                                        ", \"critical_dimension\": " + json_number(r.critical_dimension) + "}");
      datasets.push_back({"simcap/capacity", {r.capacity}});
      datasets.push_back({"simcap/critical_dimension", {r.critical_dimension}});
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fields.emplace_back("seconds", json_number(seconds));
    fields.emplace_back("ranks", std::to_string(world.size()));
    if (mpi.world_rank() != 0) return 0;
    if (!a->out.empty()) {
      const h5::File f = h5::File::create(a->out);
      for (const auto& [path, values] : datasets) {
        h5::create_dataset(f, "/" + path, h5::Type::Float64, {{hsize_t(values.size())}});
        h5::write_rows(f, "/" + path, 0, values.size(), values.data());
      }
      h5::set_attribute(f, "/", "input", a->input);
      h5::set_attribute(f, "/", "n_t", std::int64_t{a->n_t});
      h5::set_attribute(f, "/", "seed", static_cast<std::int64_t>(a->seed));
    }
    if (a->json) {
      std::string s = "{";
      for (const auto& [k, v] : fields) s += std::string(s.size() > 1 ? ", " : "") + "\"" + k + "\": " + v;
      std::printf("%s}\n", s.c_str());
    } else {
      for (const auto& [k, v] : fields) std::printf("%-20s %s\n", k.c_str(), v.c_str());
    }
    return 0;
  };
}

}  // namespace grokscope::cli
