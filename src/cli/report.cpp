// grokscope report FILE [--json]: onset steps and delays per run and per condition of a results file
// (the rule: include/grokscope/report/onset.hpp; what is reported: report/study_report.hpp).
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "grokscope/report/study_report.hpp"

namespace grokscope::cli {

Command add_report(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  app.add_option("file", *path, "results file (.h5)")->required();
  app.add_flag("--json", *json, "print one JSON object instead of the text tables");
  app.footer(
      "Onset: the step at which a curve has completed 10/50/90% of its change from the first checkpoint\n"
      "to the mean of the last 3, interpolated in log10(step). Conditions group the seeds of a grid point:\n"
      "median and 95% bootstrap interval of the 50% onsets and of their ratios.\n\n"
      "Example:\n  grokscope report results/demo.h5\n  grokscope report results/demo.h5 --json > "
      "report.json");
  return [path, json]() {
    // Read-only and serial, so safe on a file a job is still writing (it only writes raw data).
    const StudyReport report = read_study_report(*path);
    const std::string text = *json ? render_json(report) : render_text(report);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };
}

}  // namespace grokscope::cli
