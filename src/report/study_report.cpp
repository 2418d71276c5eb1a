#include "grokscope/report/study_report.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "grokscope/core/error.hpp"
#include "grokscope/io/hdf5.hpp"
#include "grokscope/io/results_file.hpp"

namespace grokscope {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Attributes = std::vector<std::pair<std::string, std::string>>;

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// "relu1,logits" and the YAML flow list "[train, test]" alike.
std::vector<std::string> split_list(std::string s) {
  s = trim(s);
  if (!s.empty() && s.front() == '[') s.erase(0, 1);
  if (!s.empty() && s.back() == ']') s.pop_back();
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(',', start), s.size());
    const std::string item = trim(s.substr(start, end - start));
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

// Every attribute of the object at `path`, as text, in HDF5's (alphabetical) name order. The io
// layer reads attributes by name only, so the names come from H5Aiterate here.
Attributes all_attributes(const h5::File& file, const std::string& path) {
  const h5::Handle object(H5Oopen(file.id(), path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object) throw InputError(file.path(), "cannot open " + path);
  std::vector<std::string> names;
  hsize_t index = 0;
  H5Aiterate2(
      object.id(), H5_INDEX_NAME, H5_ITER_INC, &index,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  Attributes out;
  for (const auto& name : names) {
    const h5::Handle attribute(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attribute) throw InputError(file.path(), "cannot open attribute " + name + " on " + path);
    const h5::Handle type(H5Aget_type(attribute.id()), H5Tclose);
    switch (H5Tget_class(type.id())) {
      case H5T_STRING:
        out.emplace_back(name, h5::string_attribute(file, path, name));
        break;
      case H5T_INTEGER:
        out.emplace_back(name, std::to_string(h5::int_attribute(file, path, name)));
        break;
      case H5T_FLOAT: {
        double value = kNaN;
        if (H5Aread(attribute.id(), H5T_NATIVE_DOUBLE, &value) < 0)
          throw InputError(file.path(), "cannot read attribute " + name + " on " + path);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", value);
        out.emplace_back(name, buf);
        break;
      }
      default:
        break;  // arrays, compounds: not written by grokscope, not part of a condition
    }
  }
  return out;
}

// Attributes that differ by seed, or only say how or where a run was executed: not part of the
// condition (see the header).
bool bookkeeping(const std::string& key) {
  return key == "seed" || key == "label" || key == "inputs" || key == "train.log_every_seconds" ||
         starts_with(key, "output.") || starts_with(key, "parallel.");
}

std::string attribute(const Attributes& attrs, const std::string& key) {
  for (const auto& [k, v] : attrs)
    if (k == key) return v;
  return "";
}

std::size_t half_index(const std::vector<double>& fractions) {
  for (std::size_t i = 0; i < fractions.size(); ++i)
    if (fractions[i] == 0.5) return i;
  throw UsageError("report: the fractions do not include 0.5");
}

double ratio(double a, double b) {
  return (a > 0 && b > 0) ? a / b : kNaN;
}

const MetricOnsets* find_metric(const RunReport& run, const std::string& path) {
  for (const auto& m : run.metrics)
    if (m.path == path) return &m;
  return nullptr;
}

// The metric paths of one run, in report order (see the header), those present in the file.
std::vector<std::string> metric_paths(const h5::File& f, const std::string& root, const Attributes& attrs) {
  std::vector<std::string> candidates = {"metrics/train_accuracy", "metrics/test_accuracy"};
  // Probes in the configured order (train before test), then any others the file holds.
  std::vector<std::string> probes = split_list(attribute(attrs, "metrics.ntk.probes"));
  if (h5::exists(f, root + "/ntk"))
    for (const auto& p : h5::children(f, root + "/ntk"))
      if (std::find(probes.begin(), probes.end(), p) == probes.end()) probes.push_back(p);
  for (const auto& p : probes) candidates.push_back("ntk/" + p + "/distance_init");
  for (const auto& layer : split_list(attribute(attrs, "layers")))
    for (const char* leaf : {"/mftma/capacity", "/glue/dimension", "/mftma/dimension"})
      candidates.push_back("geometry/" + layer + leaf);
  std::vector<std::string> out;
  for (const auto& c : candidates)
    if (h5::exists(f, root + "/" + c)) out.push_back(c);
  return out;
}

RunReport read_run(const ResultsFile& file, const std::string& id, const Attributes& attrs,
                   const std::vector<double>& fractions) {
  const h5::File& f = file.file();
  const std::string root = "/runs/" + id;
  RunReport run;
  run.id = id;
  run.label = attribute(attrs, "label");
  const RunProgress progress = file.progress(id);
  run.status = progress.status;
  const std::string seed = attribute(attrs, "seed");
  try {
    if (!seed.empty()) run.seed = std::stoll(seed);
  } catch (const std::exception&) {
    throw InputError(f.path(), root + ": attribute seed is not an integer: '" + seed + "'");
  }
  const std::vector<std::int64_t> all_steps = file.steps(id);
  run.checkpoints = std::int64_t(all_steps.size());
  run.completed = std::clamp<std::int64_t>(progress.completed, 0, run.checkpoints);
  const std::vector<std::int64_t> steps(all_steps.begin(), all_steps.begin() + run.completed);

  for (const auto& path : metric_paths(f, root, attrs)) {
    std::vector<double> values = h5::read_doubles(f, root + "/" + path);
    if (values.size() < steps.size())
      throw InputError(f.path(), root + "/" + path + " has fewer values than checkpoints");
    values.resize(steps.size());
    Rise rise = rise_onsets(steps, values, fractions);
    run.metrics.push_back({path, rise.status, std::move(rise.onsets)});
  }

  const std::size_t half = half_index(fractions);
  auto t50 = [&](const std::string& path) {
    const MetricOnsets* m = find_metric(run, path);
    return m ? m->onsets[half].step : kNaN;
  };
  const double test = t50("metrics/test_accuracy");
  run.delays.emplace_back("test_over_train", ratio(test, t50("metrics/train_accuracy")));
  for (const auto& m : run.metrics)
    if (m.path != "metrics/test_accuracy")
      run.delays.emplace_back(m.path + "_over_test", ratio(m.onsets[half].step, test));

  if (h5::exists(f, root + "/events/instability")) {
    for (double s : h5::read_doubles(f, root + "/events/instability"))
      if (std::isfinite(s)) run.instabilities.push_back(s);
    if (h5::exists(f, root + "/events/instability_count"))
      run.instability_count = h5::read_ints(f, root + "/events/instability_count").at(0);
  }
  if (const MetricOnsets* m = find_metric(run, "metrics/test_accuracy"); m && m->onsets[half].defined())
    for (double s : run.instabilities)
      if (s >= double(m->onsets[half].before) && s <= double(m->onsets[half].after))
        run.instability_at_test_onset = true;
  return run;
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = int(values.size());
  s.median = median(values);
  s.interval = bootstrap_median_interval(values);
  return s;
}

// Condition names from the keys whose values differ between conditions (see the header).
std::vector<std::string> condition_names(const std::vector<Attributes>& conditions) {
  if (conditions.size() <= 1) return std::vector<std::string>(conditions.size(), "all");
  std::set<std::string> keys;
  for (const auto& c : conditions)
    for (const auto& kv : c) keys.insert(kv.first);
  std::vector<std::string> varying, dotted;
  for (const auto& key : keys) {
    const std::string first = attribute(conditions.front(), key);
    bool differs = false;
    for (const auto& c : conditions) differs = differs || attribute(c, key) != first;
    if (!differs) continue;
    varying.push_back(key);
    if (key.find('.') != std::string::npos) dotted.push_back(key);
  }
  auto name_with = [&](const std::vector<std::string>& use) {
    std::vector<std::string> names;
    for (const auto& c : conditions) {
      std::string name;
      for (const auto& key : use) name += (name.empty() ? "" : " ") + key + "=" + attribute(c, key);
      names.push_back(name);
    }
    return names;
  };
  // The dotted (full) keys say it all unless only a short alias differs somewhere.
  std::vector<std::string> names = name_with(dotted.empty() ? varying : dotted);
  if (std::set<std::string>(names.begin(), names.end()).size() != names.size()) names = name_with(varying);
  return names;
}

// ---- rendering --------------------------------------------------------------------------------

std::string format(const char* pattern, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, pattern, value);
  return buf;
}

std::string text_step(double step) {
  if (!std::isfinite(step)) return "-";
  return format(step >= 1e4 ? "%.0f" : "%.4g", step);
}
std::string text_ratio(double r) {
  return std::isfinite(r) ? format("%.3g", r) : "-";
}
std::string text_decades(double r) {
  return r > 0 && std::isfinite(r) ? format("%+.2f", std::log10(r)) : "-";
}

std::string pad(const std::string& s, std::size_t width, bool right = true) {
  if (s.size() >= width) return s;
  const std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

const char* rise_text(RiseStatus s) {
  switch (s) {
    case RiseStatus::Ok:
      return "";
    case RiseStatus::TooShort:
      return "too few points";
    case RiseStatus::NoRise:
      return "no rise";
  }
  return "";
}
const char* rise_json(RiseStatus s) {
  switch (s) {
    case RiseStatus::Ok:
      return "ok";
    case RiseStatus::TooShort:
      return "too_short";
    case RiseStatus::NoRise:
      return "no_rise";
  }
  return "";
}

std::string fraction_key(double f) {
  return format("%g", f);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;  // UTF-8 bytes pass through unchanged
        }
    }
  }
  return out + "\"";
}

// JSON has no NaN or infinity: undefined values are null.
std::string json_number(double v) {
  return std::isfinite(v) ? format("%.12g", v) : "null";
}

std::string json_summary(const Summary& s) {
  return "{\"median\": " + json_number(s.median) + ", \"low\": " + json_number(s.interval.low) +
         ", \"high\": " + json_number(s.interval.high) + ", \"n\": " + std::to_string(s.n) + "}";
}

template <typename T, typename F>
std::string json_object(const std::vector<T>& items, F entry, const std::string& indent) {
  if (items.empty()) return "{}";
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ",\n" : "\n") + indent + "  " + entry(items[i]);
  return out + "\n" + indent + "}";
}

std::string json_ids(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + json_string(ids[i]);
  return out + "]";
}

}  // namespace

StudyReport read_study_report(const std::string& path) {
  const ResultsFile file = ResultsFile::open(path, false);
  StudyReport report;
  report.file = path;
  std::vector<Attributes> keys;     // per condition: its identifying attributes
  std::vector<std::size_t> of_run;  // condition index of each run
  std::map<Attributes, std::size_t> index;
  for (const auto& id : file.run_ids()) {
    const Attributes attrs = all_attributes(file.file(), "/runs/" + id);
    report.runs.push_back(read_run(file, id, attrs, report.fractions));
    Attributes key;
    for (const auto& kv : attrs)
      if (!bookkeeping(kv.first)) key.push_back(kv);
    const auto [it, added] = index.emplace(key, keys.size());
    if (added) keys.push_back(key);
    of_run.push_back(it->second);
  }
  const std::vector<std::string> names = condition_names(keys);
  report.conditions.resize(keys.size());
  for (std::size_t c = 0; c < keys.size(); ++c) report.conditions[c].condition = names[c];

  const std::size_t half = half_index(report.fractions);
  for (std::size_t c = 0; c < keys.size(); ++c) {
    ConditionReport& cond = report.conditions[c];
    std::vector<const RunReport*> done;
    std::vector<std::string> metric_order, delay_order;
    for (std::size_t r = 0; r < report.runs.size(); ++r) {
      if (of_run[r] != c) continue;
      RunReport& run = report.runs[r];
      run.condition = cond.condition;
      cond.runs.push_back(run.id);
      if (run.status != "done")
        cond.excluded.push_back(run.id);
      else
        done.push_back(&run);
      for (const auto& m : run.metrics)
        if (std::find(metric_order.begin(), metric_order.end(), m.path) == metric_order.end())
          metric_order.push_back(m.path);
      for (const auto& d : run.delays)
        if (std::find(delay_order.begin(), delay_order.end(), d.first) == delay_order.end())
          delay_order.push_back(d.first);
    }
    for (const auto& path : metric_order) {
      std::vector<double> values;
      for (const RunReport* run : done)
        if (const MetricOnsets* m = find_metric(*run, path); m && m->onsets[half].defined())
          values.push_back(m->onsets[half].step);
      cond.onsets.emplace_back(path, summarize(values));
    }
    for (const auto& key : delay_order) {
      std::vector<double> values;
      for (const RunReport* run : done)
        for (const auto& [k, v] : run->delays)
          if (k == key && std::isfinite(v)) values.push_back(v);
      cond.delays.emplace_back(key, summarize(values));
    }
  }
  return report;
}

std::string render_text(const StudyReport& report) {
  std::string out = "grokscope report: " + report.file + "\n";
  std::string fr;
  for (double f : report.fractions) fr += (fr.empty() ? "" : "/") + format("%g", 100 * f) + "%";
  out += "onset: step at which a curve has completed " + fr +
         " of its change from the first checkpoint to the mean of the last 3, interpolated in "
         "log10(step); '-' = undefined. Ratios from the 50% onsets; decades = log10(ratio).\n";

  for (const auto& run : report.runs) {
    const bool done = run.status == "done";
    out += "\nrun " + run.id + "  " + run.label + "  [" + run.status + (done ? "" : " *") + ", " +
           std::to_string(run.completed) + "/" + std::to_string(run.checkpoints) +
           " checkpoints]  condition: " + run.condition + "\n";
    if (!done) out += "  * not done: onsets are over its completed checkpoints only\n";
    std::size_t width = 24;
    for (const auto& m : run.metrics) width = std::max(width, m.path.size() + 2);
    std::string header = "  " + pad("metric", width, false);
    for (double f : report.fractions) header += pad(format("%g", 100 * f) + "%", 10);
    out += header + pad("/test", 10) + pad("decades", 9) + "\n";
    for (const auto& m : run.metrics) {
      std::string line = "  " + pad(m.path, width, false);
      for (const auto& o : m.onsets) line += pad(text_step(o.step), 10);
      if (m.path != "metrics/test_accuracy") {
        double r = kNaN;
        for (const auto& [k, v] : run.delays)
          if (k == m.path + "_over_test") r = v;
        line += pad(text_ratio(r), 10) + pad(text_decades(r), 9);
      } else if (m.status != RiseStatus::Ok) {
        line += pad("", 19);
      }
      if (m.status != RiseStatus::Ok) line += std::string("  ") + rise_text(m.status);
      out += line + "\n";
    }
    double grok = kNaN;
    for (const auto& [k, v] : run.delays)
      if (k == "test_over_train") grok = v;
    out += "  test/train onset ratio: " + text_ratio(grok) + " (" + text_decades(grok) + " decades)\n";
    if (run.instabilities.empty() && run.instability_count == 0) {
      out += "  instabilities: none\n";
    } else {
      std::string steps;
      for (double s : run.instabilities) steps += (steps.empty() ? "" : ", ") + format("%.0f", s);
      out += "  instabilities: " + std::to_string(run.instability_count) + " (steps " + steps + ")" +
             (run.instability_at_test_onset ? "; one coincides with the test-accuracy onset" : "") + "\n";
    }
  }

  out +=
      "\nconditions: 50% onsets and ratios over the runs with status done: median [95% bootstrap interval] "
      "(n runs with a value)\n";
  for (const auto& cond : report.conditions) {
    std::string ids;
    for (const auto& id : cond.runs) ids += (ids.empty() ? "" : " ") + id;
    out += "\ncondition " + cond.condition + "  (runs " + ids + ")\n";
    if (!cond.excluded.empty()) {
      std::string ex;
      for (const auto& id : cond.excluded) ex += (ex.empty() ? "" : " ") + id;
      out += "  excluded (not done): " + ex + "\n";
    }
    std::size_t width = 24;
    for (const auto& [k, s] : cond.delays) width = std::max(width, k.size() + 2);
    for (const auto& [k, s] : cond.onsets) width = std::max(width, k.size() + 2);
    out += "  " + pad("onset (step)", width, false) + pad("median", 10) + pad("low", 10) + pad("high", 10) +
           pad("n", 4) + "\n";
    for (const auto& [path, s] : cond.onsets)
      out += "  " + pad(path, width, false) + pad(text_step(s.median), 10) +
             pad(text_step(s.interval.low), 10) + pad(text_step(s.interval.high), 10) +
             pad(std::to_string(s.n), 4) + "\n";
    out += "  " + pad("ratio", width, false) + pad("median", 10) + pad("low", 10) + pad("high", 10) +
           pad("n", 4) + pad("decades", 9) + "\n";
    for (const auto& [key, s] : cond.delays)
      out += "  " + pad(key, width, false) + pad(text_ratio(s.median), 10) +
             pad(text_ratio(s.interval.low), 10) + pad(text_ratio(s.interval.high), 10) +
             pad(std::to_string(s.n), 4) + pad(text_decades(s.median), 9) + "\n";
  }
  return out;
}

std::string render_json(const StudyReport& report) {
  std::string out = "{\n  \"file\": " + json_string(report.file) + ",\n  \"fractions\": [";
  for (std::size_t i = 0; i < report.fractions.size(); ++i)
    out += (i ? ", " : "") + json_number(report.fractions[i]);
  out += "],\n  \"runs\": [";
  const std::string in = "      ";
  for (std::size_t r = 0; r < report.runs.size(); ++r) {
    const RunReport& run = report.runs[r];
    out += std::string(r ? "," : "") + "\n    {\n";
    out += in + "\"id\": " + json_string(run.id) + ",\n";
    out += in + "\"label\": " + json_string(run.label) + ",\n";
    out += in + "\"condition\": " + json_string(run.condition) + ",\n";
    out += in + "\"seed\": " + std::to_string(run.seed) + ",\n";
    out += in + "\"status\": " + json_string(run.status) + ",\n";
    out += in + "\"completed\": " + std::to_string(run.completed) + ",\n";
    out += in + "\"checkpoints\": " + std::to_string(run.checkpoints) + ",\n";
    out += in + "\"onsets\": " +
           json_object(
               run.metrics,
               [&](const MetricOnsets& m) {
                 std::string o = json_string(m.path) + ": {";
                 for (std::size_t k = 0; k < report.fractions.size(); ++k)
                   o += (k ? ", " : "") + json_string(fraction_key(report.fractions[k])) + ": " +
                        json_number(m.onsets[k].step);
                 return o + "}";
               },
               in) +
           ",\n";
    out += in + "\"rise\": " +
           json_object(
               run.metrics,
               [](const MetricOnsets& m) {
                 return json_string(m.path) + ": " + json_string(rise_json(m.status));
               },
               in) +
           ",\n";
    out += in + "\"delays\": " +
           json_object(
               run.delays,
               [](const std::pair<std::string, double>& d) {
                 return json_string(d.first) + ": " + json_number(d.second);
               },
               in) +
           ",\n";
    out += in + "\"instabilities\": [";
    for (std::size_t i = 0; i < run.instabilities.size(); ++i)
      out += (i ? ", " : "") + json_number(run.instabilities[i]);
    out += "],\n";
    out += in + "\"instability_count\": " + std::to_string(run.instability_count) + ",\n";
    out += in + "\"instability_at_test_onset\": " + (run.instability_at_test_onset ? "true" : "false") +
           "\n    }";
  }
  out += std::string(report.runs.empty() ? "" : "\n  ") + "],\n  \"conditions\": [";
  for (std::size_t c = 0; c < report.conditions.size(); ++c) {
    const ConditionReport& cond = report.conditions[c];
    out += std::string(c ? "," : "") + "\n    {\n";
    out += in + "\"condition\": " + json_string(cond.condition) + ",\n";
    out += in + "\"runs\": " + json_ids(cond.runs) + ",\n";
    out += in + "\"excluded\": " + json_ids(cond.excluded) + ",\n";
    auto summary = [](const std::pair<std::string, Summary>& e) {
      return json_string(e.first) + ": " + json_summary(e.second);
    };
    out += in + "\"onsets\": " + json_object(cond.onsets, summary, in) + ",\n";
    out += in + "\"delays\": " + json_object(cond.delays, summary, in) + "\n    }";
  }
  out += std::string(report.conditions.empty() ? "" : "\n  ") + "]\n}\n";
  return out;
}

}  // namespace grokscope
