#include "grokscope/train/trainer.hpp"

#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "grokscope/core/error.hpp"
#include "grokscope/core/log.hpp"
#include "grokscope/core/random.hpp"
#include "grokscope/core/runtime.hpp"
#include "grokscope/core/schedule.hpp"
#include "grokscope/core/stop.hpp"
#include "grokscope/model/network.hpp"
#include "grokscope/model/mlp.hpp"
#include "grokscope/train/fused_mlp.hpp"
#include "grokscope/train/geometry_tracker.hpp"
#include "grokscope/train/instability.hpp"
#include "grokscope/train/layout.hpp"
#include "grokscope/train/ntk_tracker.hpp"
#include "grokscope/train/step.hpp"

namespace grokscope {
namespace {

using Clock = std::chrono::steady_clock;

torch::Tensor as_tensor(const Split& split, torch::Dtype dtype, torch::Device device) {
  return torch::from_blob(const_cast<float*>(split.x.data()), {split.n, split.features}, torch::kFloat32)
      .to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
}
torch::Tensor labels_tensor(const Split& split, torch::Device device) {
  return torch::from_blob(const_cast<std::int64_t*>(split.y.data()), {split.n}, torch::kInt64)
      .to(device, torch::kInt64, /*non_blocking=*/false, /*copy=*/true);
}

std::vector<double> flat_values(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};

Evaluation evaluate(Network& model, const torch::Tensor& x, const torch::Tensor& y, const std::string& loss,
                    std::int64_t classes) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = x.size(0), chunk = 4096;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t start = 0; start < n; start += chunk) {
    const std::int64_t end = std::min(n, start + chunk);
    const torch::Tensor out = model.forward(x.slice(0, start, end));
    const torch::Tensor yb = y.slice(0, start, end);
    // Mean losses are per element (MSE) or per sample (CE): weight each chunk by its rows.
    loss_sum += loss_of(out, yb, loss, classes).item<double>() * double(end - start);
    correct += out.argmax(1).eq(yb).sum().item<std::int64_t>();
  }
  return {loss_sum / double(n), double(correct) / double(n)};
}

std::string fingerprint(const RunPoint& run) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(
                    stream_tag(run.config.to_yaml() + "\nseed=" + std::to_string(run.seed))));
  return buf;
}

// The resumable state besides model and optimizer: everything the loop carries across steps.
struct LoopState {
  std::int64_t step = 0;
  std::size_t next_checkpoint = 0;
  SpikeDetector spikes;
  bool reached_full_train_accuracy = false;
  double wall_before = 0;  // wall seconds spent before this process resumed
  // Seconds per phase (train, evaluate, ntk, geometry, results, state) up to the last saved state,
  // carried across resumes so that the file's timing/ covers the whole run, as wall_seconds does.
  std::array<double, 6> phases{};
  std::vector<CheckpointRecord> records;
  std::vector<std::int64_t> instabilities;
  // Parameters at the first and at the latest checkpoint: the NTK reference kernels are recomputed
  // from them on resume (far smaller than the kernels themselves).
  std::vector<torch::Tensor> initial_params, previous_params;
};

torch::Tensor records_tensor(const std::vector<CheckpointRecord>& records, std::size_t layers, std::size_t metrics) {
  const std::int64_t width = 7 + static_cast<std::int64_t>(layers + metrics);
  auto t = torch::zeros({static_cast<std::int64_t>(records.size()), width}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const double fixed[7] = {double(r.step), r.train_loss, r.train_accuracy, r.test_loss,
                             r.test_accuracy, r.weight_norm, r.wall_seconds};
    for (int k = 0; k < 7; ++k) a[i][k] = fixed[k];
    for (std::size_t l = 0; l < layers; ++l) a[i][7 + l] = r.layer_norms[l];
    for (std::size_t m = 0; m < metrics; ++m) a[i][7 + layers + m] = r.metrics[m].second;
  }
  return t;
}

std::vector<CheckpointRecord> records_from(const torch::Tensor& t, std::size_t layers,
                                           const std::vector<std::string>& metric_names) {
  std::vector<CheckpointRecord> records;
  auto a = t.accessor<double, 2>();
  for (std::int64_t i = 0; i < t.size(0); ++i) {
    CheckpointRecord r;
    r.step = static_cast<std::int64_t>(a[i][0]);
    r.train_loss = a[i][1], r.train_accuracy = a[i][2], r.test_loss = a[i][3];
    r.test_accuracy = a[i][4], r.weight_norm = a[i][5], r.wall_seconds = a[i][6];
    for (std::size_t l = 0; l < layers; ++l) r.layer_norms.push_back(a[i][7 + l]);
    for (std::size_t m = 0; m < metric_names.size(); ++m) r.metrics.emplace_back(metric_names[m], a[i][7 + layers + m]);
    records.push_back(r);
  }
  return records;
}

torch::Tensor int_tensor(const std::vector<std::int64_t>& v) {
  return torch::tensor(v.empty() ? std::vector<std::int64_t>{} : v, torch::kInt64);
}

void save_state(const std::string& path, const std::string& print, Network& model,
                torch::optim::Optimizer& optimizer, const LoopState& s, double wall) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("fingerprint", c10::IValue(print));
  std::vector<double> loop = {double(s.step), double(s.next_checkpoint), s.spikes.running_min,
                              double(s.spikes.in_spike), double(s.reached_full_train_accuracy), wall,
                              s.spikes.first};
  loop.insert(loop.end(), s.phases.begin(), s.phases.end());
  archive.write("loop", torch::tensor(loop, torch::kFloat64));
  const std::size_t layers = s.records.empty() ? 0 : s.records.front().layer_norms.size();
  std::string names;
  if (!s.records.empty())
    for (const auto& [name, value] : s.records.front().metrics) names += name + "\n";
  archive.write("records", records_tensor(s.records, layers, s.records.empty() ? 0 : s.records.front().metrics.size()));
  archive.write("record_shape", torch::tensor({static_cast<std::int64_t>(layers)}, torch::kInt64));
  archive.write("metric_names", c10::IValue(names));
  // Parameter snapshots exist only when the NTK is tracked; their count says how many to read.
  archive.write("snapshots", torch::tensor({static_cast<std::int64_t>(s.initial_params.size())}, torch::kInt64));
  for (std::size_t i = 0; i < s.initial_params.size(); ++i) {
    archive.write("initial_params/" + std::to_string(i), s.initial_params[i]);
    archive.write("previous_params/" + std::to_string(i), s.previous_params[i]);
  }
  archive.write("instabilities", int_tensor(s.instabilities));
  // Write then rename: a kill leaves either the old state or the new one, never half of one.
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::filesystem::rename(tmp, path);
}

LoopState load_state(const std::string& path, const std::string& print, Network& model,
                     torch::optim::Optimizer& optimizer) {
  LoopState s;
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(path);
    c10::IValue stored;
    archive.read("fingerprint", stored);
    if (!stored.isString() || stored.toStringRef() != print)
      throw ConfigError("", path + ": the checkpoint belongs to another configuration (fingerprint " +
                                (stored.isString() ? stored.toStringRef() : "?") + ", expected " +
                                print + "); refusing to resume from it (delete it to start this run from step 0)");
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor loop, records, instabilities;
    archive.read("loop", loop);
    archive.read("records", records);
    archive.read("instabilities", instabilities);
    torch::Tensor shape;
    c10::IValue names;
    archive.read("record_shape", shape);
    archive.read("metric_names", names);
    std::vector<std::string> metric_names;
    std::stringstream lines(names.toStringRef());
    for (std::string line; std::getline(lines, line);) metric_names.push_back(line);
    auto l = loop.accessor<double, 1>();
    s.step = static_cast<std::int64_t>(l[0]);
    s.next_checkpoint = static_cast<std::size_t>(l[1]);
    s.spikes.running_min = l[2];
    s.spikes.in_spike = l[3] != 0;
    s.reached_full_train_accuracy = l[4] != 0;
    s.wall_before = l[5];
    if (loop.numel() > 6) s.spikes.first = l[6];  // absent in states written before the floor existed
    if (loop.numel() >= 7 + std::int64_t(s.phases.size()))  // absent in states written before 2026-12-04
      for (std::size_t i = 0; i < s.phases.size(); ++i) s.phases[i] = l[7 + std::int64_t(i)];
    s.records = records_from(records, static_cast<std::size_t>(shape[0].item<std::int64_t>()), metric_names);
    torch::Tensor snapshots;
    archive.read("snapshots", snapshots);
    for (std::int64_t i = 0; i < snapshots[0].item<std::int64_t>(); ++i) {
      torch::Tensor initial, previous;
      archive.read("initial_params/" + std::to_string(i), initial);
      archive.read("previous_params/" + std::to_string(i), previous);
      s.initial_params.push_back(initial);
      s.previous_params.push_back(previous);
    }
    for (std::int64_t i = 0; i < instabilities.numel(); ++i)
      s.instabilities.push_back(instabilities[i].item<std::int64_t>());
  } catch (const c10::Error& e) {
    throw InputError(path, "truncated or corrupt checkpoint state; refusing to resume from it (" +
                               std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
  return s;
}

// Whether this run should stop now. Every rank of a group trains the same model and meets the
// others in the checkpoint's collectives, so they must stop at the same step: the request is
// summed over the group (one tiny allreduce per step, only for groups of more than one rank).
bool stop_agreed(Communicator* group) {
  double flag = stop_requested() != 0 ? 1.0 : 0.0;
  if (group != nullptr && group->size() > 1) group->allreduce_sum(&flag, 1);
  return flag > 0;
}

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 90) std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  else if (seconds < 5400) std::snprintf(buf, sizeof buf, "%.1fm", seconds / 60);
  else std::snprintf(buf, sizeof buf, "%.1fh", seconds / 3600);
  return buf;
}

}  // namespace

DeviceChoice choose_device(const Config& config, int node_rank) {
  const std::string& wanted = config.text("parallel.device");
  const bool available = torch::cuda::is_available();
  if (wanted == "cuda" && !available)
    throw ConfigError("parallel.device", "is 'cuda' but no CUDA device is usable here (" +
                                             std::string(torch::cuda::device_count() == 0 && !available
                                                             ? "this LibTorch has no CUDA or no GPU is visible"
                                                             : "the driver refused") +
                                             "); use 'cpu' or 'auto'");
  DeviceChoice choice;
  if (wanted == "cpu" || !available) return choice;
  choice.kind = "cuda";
  choice.index = node_rank % static_cast<int>(torch::cuda::device_count());
  return choice;
}

void apply_thread_policy(int threads) {
  torch::set_num_threads(1);
  set_blas_threads(threads > 0 ? threads : 1);
}

RunOutcome train_run(const RunPoint& run, const Datasets& data, const TrainOptions& options) {
  const Config& c = run.config;
  const auto dtype = c.text("train.dtype") == "float64" ? torch::kFloat64 : torch::kFloat32;
  const std::string loss_name = c.text("train.loss");
  const std::int64_t steps = c.integer("train.steps");
  const std::int64_t batch = c.integer("train.batch_size");
  const std::vector<std::int64_t> schedule = checkpoint_steps(c);
  if (batch > data.train.n)
    throw ConfigError("train.batch_size", "is " + std::to_string(batch) + " but the training set has " +
                                              std::to_string(data.train.n) + " points");

  torch::manual_seed(static_cast<std::uint64_t>(run.seed));
  const std::shared_ptr<Network> model =
      make_network(c, InputShape{data.train.height, data.train.width, data.classes});
  const torch::Device device = options.device == "cuda" ? torch::Device(torch::kCUDA, options.device_index)
                                                       : torch::Device(torch::kCPU);
  model->to(device, dtype);
  auto optimizer = make_optimizer(c, *model);
  Communicator* const device_group = options.device_group ? options.device_group : options.group;

  const torch::Tensor x_train = as_tensor(data.train, dtype, device), y_train = labels_tensor(data.train, device);
  const torch::Tensor x_test = as_tensor(data.test, dtype, device), y_test = labels_tensor(data.test, device);
  const std::string print = fingerprint(run);

  LoopState s;
  if (options.resume && !options.state_path.empty() && std::filesystem::exists(options.state_path))
    s = load_state(options.state_path, print, *model, *optimizer);

  // NTK probes and geometry manifolds are drawn from the DATA seed (layout.hpp): every model seed
  // of a condition is measured on the same inputs.
  const MeasurementInputs inputs = measurement_inputs(c, data);
  std::unique_ptr<NtkTracker> ntk;
  if (c.flag("metrics.ntk.enabled")) {
    std::vector<NtkTracker::Probe> probes;
    for (const auto& [name, probe] : inputs.probes) probes.push_back({name, as_tensor(probe, dtype, device), probe.y});
    ntk = std::make_unique<NtkTracker>(std::move(probes), data.classes, device_group);
    if (!s.records.empty()) {
      // Resumed: rebuild the reference kernels from the parameters they were taken at.
      auto at = [&](const std::vector<torch::Tensor>& params) {
        auto net = make_network(c, InputShape{data.train.height, data.train.width, data.classes});
        net->to(device, dtype);
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < params.size(); ++i) net->parameters()[i].copy_(params[i]);
        return net;
      };
      ntk->restore(*at(s.initial_params), *at(s.previous_params), s.records.back().step);
    }
  }

  std::unique_ptr<GeometryTracker> geometry;
  if (c.flag("metrics.geometry.enabled")) {
    GeometryTracker::Inputs g{as_tensor(inputs.manifolds, dtype, device), inputs.manifolds.y, x_train, x_test,
                              data.train.y, data.test.y};
    geometry = std::make_unique<GeometryTracker>(c, GeometryTracker::resolve_layers(c, *model), std::move(g),
                                                 data.classes, options.group, options.threads);
  }
  // The fused step keeps its moments in the optimizer's own state entries (looked up every step),
  // so a resumed optimizer state carries over either way.
  std::unique_ptr<FusedMlpStep> fused;
  const std::string no_fused = c.flag("train.fused_step") ? FusedMlpStep::unsupported_reason(*model, c) : "off";
  if (no_fused.empty())
    fused = std::make_unique<FusedMlpStep>(dynamic_cast<MlpImpl&>(*model), *optimizer, c, options.threads);
  logging::info_all(run.id + ": training step " +
                    (fused ? "fused MLP on " + std::to_string(fused->team_size()) + " thread(s)"
                           : "LibTorch autograd (fused step: " + no_fused + ")"));
  const bool store_kernels = ntk && c.flag("metrics.ntk.store_kernels");
  const bool store_params = c.flag("metrics.store_params");

  RunOutcome outcome;
  const auto layers = model->layer_parameters();
  for (const auto& layer : layers) outcome.layer_norm_names.push_back(layer.first);
  if (options.on_start) options.on_start(outcome.layer_norm_names);

  const auto started = Clock::now();
  auto wall = [&] { return s.wall_before + std::chrono::duration<double>(Clock::now() - started).count(); };
  const bool shuffle = c.text("train.batching") == "shuffle";
  const std::int64_t n = data.train.n;
  const std::int64_t batches_per_epoch = (n + batch - 1) / batch;
  std::vector<std::int64_t> permutation;
  std::int64_t permutation_epoch = -1;
  const std::uint64_t seed = static_cast<std::uint64_t>(run.seed);
  const double log_every = c.number("train.log_every_seconds");
  auto last_log = Clock::now();
  std::size_t checkpoints_this_call = 0;
  const std::int64_t start_step = s.step;

  double &t_train = s.phases[0], &t_evaluate = s.phases[1], &t_ntk = s.phases[2], &t_geometry = s.phases[3],
         &t_results = s.phases[4], &t_state = s.phases[5];
  auto timed = [](double& total, auto&& work) {
    const auto begin = Clock::now();
    work();
    total += std::chrono::duration<double>(Clock::now() - begin).count();
  };
  auto checkpoint = [&]() {
    model->eval();
    const auto evaluate_begin = Clock::now();
    CheckpointRecord r;
    r.step = s.step;
    const Evaluation tr = evaluate(*model, x_train, y_train, loss_name, data.classes);
    const Evaluation te = evaluate(*model, x_test, y_test, loss_name, data.classes);
    r.train_loss = tr.loss, r.train_accuracy = tr.accuracy, r.test_loss = te.loss, r.test_accuracy = te.accuracy;
    double total = 0;
    {
      torch::NoGradGuard no_grad;
      for (const auto& layer : layers) {
        double sq = 0;
        for (const auto& p : layer.second) sq += p.pow(2).sum().item<double>();
        r.layer_norms.push_back(std::sqrt(sq));
        total += sq;
      }
    }
    r.weight_norm = std::sqrt(total);
    t_evaluate += std::chrono::duration<double>(Clock::now() - evaluate_begin).count();
    if (ntk) {
      timed(t_ntk, [&] { ntk->measure(*model, s.step, r.metrics); });
      std::vector<torch::Tensor> snapshot;
      for (const auto& p : model->parameters()) snapshot.push_back(p.detach().clone());
      if (s.initial_params.empty()) s.initial_params = snapshot;
      s.previous_params = std::move(snapshot);
      if (store_kernels)
        for (std::size_t p = 0; p < inputs.probes.size(); ++p)
          r.arrays.emplace_back("ntk/" + inputs.probes[p].first + "/kernel", flat_values(ntk->latest()[p]));
    }
    if (geometry) timed(t_geometry, [&] { geometry->measure(*model, r.metrics, r.arrays); });
    if (store_params)
      for (const auto& p : model->named_parameters()) r.arrays.emplace_back("params/" + p.key(), flat_values(p.value()));
    if (s.reached_full_train_accuracy && r.train_accuracy < 0.99) s.instabilities.push_back(s.step);
    if (r.train_accuracy >= 1.0) s.reached_full_train_accuracy = true;
    r.wall_seconds = wall();
    if (options.on_checkpoint) timed(t_results, [&] { options.on_checkpoint(r); });
    r.arrays.clear();  // the results file has them; the run state keeps scalars only
    s.records.push_back(r);
    ++s.next_checkpoint;
    if (!options.state_path.empty() && options.write_state)
      timed(t_state, [&] { save_state(options.state_path, print, *model, *optimizer, s, r.wall_seconds); });
    ++checkpoints_this_call;
  };

  try {
    while (true) {
      if (s.next_checkpoint < schedule.size() && schedule[s.next_checkpoint] == s.step) {
        checkpoint();
        if (options.stop_after_checkpoints && checkpoints_this_call >= options.stop_after_checkpoints &&
            s.step < steps) {
          outcome.status = "interrupted";
          break;
        }
      }
      if (s.step >= steps) {
        outcome.status = "done";
        break;
      }
      if (stop_agreed(options.group)) {
        // Preemption or a time limit: keep everything up to this very step (the batches are a
        // function of (seed, step), so the resumed run continues bit-exactly from here).
        if (!options.state_path.empty() && options.write_state)
          timed(t_state, [&] { save_state(options.state_path, print, *model, *optimizer, s, wall()); });
        outcome.status = "interrupted";
        outcome.error = "stopped by signal " + std::to_string(stop_requested()) + " at step " + std::to_string(s.step);
        break;
      }
      // The batch is a function of (seed, step) alone, so a resumed run draws the same batches.
      const std::int64_t* rows = nullptr;
      std::int64_t count = batch;
      std::vector<std::int64_t> draw;
      if (shuffle) {
        const std::int64_t epoch = s.step / batches_per_epoch, k = s.step % batches_per_epoch;
        if (epoch != permutation_epoch) {
          permutation.resize(static_cast<std::size_t>(n));
          for (std::int64_t i = 0; i < n; ++i) permutation[i] = i;
          RandomStream(seed, {stream_tag("epoch-permutation"), static_cast<std::uint64_t>(epoch)}).shuffle(permutation);
          permutation_epoch = epoch;
        }
        const std::int64_t begin = k * batch;
        rows = permutation.data() + begin;
        count = std::min(n, begin + batch) - begin;
      } else {
        draw.resize(static_cast<std::size_t>(batch));
        RandomStream stream(seed, {stream_tag("iid-batch"), static_cast<std::uint64_t>(s.step)});
        for (auto& d : draw) d = static_cast<std::int64_t>(stream.below(static_cast<std::uint64_t>(n)));
        rows = draw.data();
      }
      const auto step_begin = Clock::now();
      double value = 0;
      if (fused) {
        value = fused->step(x_train, y_train, rows, count);
      } else {
        model->train();
        const torch::Tensor index =
            torch::from_blob(const_cast<std::int64_t*>(rows), {count}, torch::kInt64).to(device);
        value = train_step(*model, *optimizer, x_train.index_select(0, index), y_train.index_select(0, index),
                           loss_name, data.classes)
                    .item<double>();
      }
      t_train += std::chrono::duration<double>(Clock::now() - step_begin).count();
      ++s.step;

      if (!std::isfinite(value)) {
        outcome.status = "diverged";
        outcome.error = "loss became " + std::to_string(value) + " at step " + std::to_string(s.step);
        break;
      }
      if (s.spikes.observe(value)) s.instabilities.push_back(s.step);

      if (std::chrono::duration<double>(Clock::now() - last_log).count() >= log_every) {
        last_log = Clock::now();
        const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
        const double per_step = elapsed / double(s.step - start_step);
        const auto& last = s.records.back();
        char line[256];
        std::snprintf(line, sizeof line,
                      "%s step %lld/%lld loss %.3g | last checkpoint: train acc %.3f test acc %.3f | "
                      "%.2f ms/step, ETA %s",
                      run.id.c_str(), static_cast<long long>(s.step), static_cast<long long>(steps), value,
                      last.train_accuracy, last.test_accuracy, per_step * 1e3,
                      format_duration(per_step * double(steps - s.step)).c_str());
        logging::info_all(line);
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    outcome.status = "failed";
    outcome.error = e.what();
  }
  outcome.records = s.records;
  outcome.instability_steps = s.instabilities;
  outcome.wall_seconds = wall();
  outcome.timings = {{"train", t_train},     {"evaluate", t_evaluate}, {"ntk", t_ntk},
                     {"geometry", t_geometry}, {"results", t_results},   {"state", t_state}};
  return outcome;
}

}  // namespace grokscope
