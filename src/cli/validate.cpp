// grokscope validate CONFIG [key=value ...]
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "grokscope/core/config.hpp"
#include "grokscope/core/error.hpp"
#include "grokscope/core/grid.hpp"
#include "grokscope/core/schedule.hpp"
#include "grokscope/data/dataset.hpp"

namespace grokscope::cli {

Command add_validate(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config, "experiment YAML file")->required();
  app.add_option("overrides", args->overrides, "key.sub=value overrides, key=a,b,c sweeps");
  app.footer("Example:\n  grokscope validate configs/demo.yaml train.steps=2000 model.init_scale=2,8");
  return [args]() {
    const Config config = Config::from_file(args->config, args->overrides);
    const auto runs = expand_grid(config);
    std::cout << "# resolved config (" << args->config << ")\n" << config.to_yaml();
    std::cout << "\n# grid: " << runs.size() << " run(s)\n";
    for (const auto& run : runs) std::cout << run.id << "  " << run.label() << "\n";
    // Each run may have its own train.steps; print the schedule of each distinct one.
    std::map<std::string, std::vector<std::string>> schedules;
    for (const auto& run : runs) {
      std::string text;
      const auto steps = checkpoint_steps(run.config);
      for (std::size_t i = 0; i < steps.size(); ++i) text += (i ? " " : "") + std::to_string(steps[i]);
      schedules[std::to_string(steps.size()) + " checkpoints: " + text].push_back(run.id);
    }
    for (const auto& [text, ids] : schedules)
      std::cout << "\n# schedule (" << (schedules.size() == 1 ? std::string("all runs") : ids.front() + "...")
                << "), " << text << "\n";
    // Dataset sizes are checked against the files' headers when the files are here.
    for (const auto& run : runs) {
      const DataOptions data = DataOptions::from_config(run.config);
      try {
        check_dataset_sizes(data);
      } catch (const InputError& e) {
        std::cout << "\n# note: dataset not checked here: " << e.what() << "\n";
        break;
      }
    }
    return 0;
  };
}

}  // namespace grokscope::cli
