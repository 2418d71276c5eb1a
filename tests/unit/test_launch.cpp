// Slurm study helpers: quoting is checked against a real POSIX shell, not against a string.
#include <gtest/gtest.h>

#include "grokscope/core/error.hpp"
#include "grokscope/launch/slurm.hpp"

namespace grokscope::launch {
namespace {

TEST(Launch, ShellQuoteSurvivesARealShell) {
  const std::string hostile[] = {"plain", "a b", "it's", "$(touch /nonexistent/x)", "`id`", "\"q\" 'z'",
                                 "back\\slash", "new\nline", "$HOME ${PATH} *", ""};
  for (const auto& text : hostile) {
    // sh prints its first argument unchanged only if the quoting kept it one literal word.
    const CommandResult r = run_command({"/bin/sh", "-c", "printf '%s' " + shell_quote(text)});
    EXPECT_EQ(r.exit_code, 0) << text;
    EXPECT_EQ(r.out, text) << text;
  }
}

TEST(Launch, TaskCountAndArrayList) {
  EXPECT_EQ(task_count(10, 3), 4u);
  EXPECT_EQ(task_count(9, 3), 3u);
  EXPECT_EQ(task_count(1, 5), 1u);
  EXPECT_EQ(array_list({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(array_list({4}), "4");
}

TEST(Launch, RefusesValuesThatCannotGoIntoSbatchLines) {
  SlurmOptions o;
  EXPECT_NO_THROW(check_options(o));
  o.partition = "gpu a100";
  EXPECT_THROW(check_options(o), UsageError);
  o = SlurmOptions{};
  o.sbatch_args = {"--mem=4G"};
  EXPECT_NO_THROW(check_options(o));
  o.sbatch_args = {"mem=4G"};
  EXPECT_THROW(check_options(o), UsageError);
  o = SlurmOptions{};
  o.mode = "serial";
  EXPECT_THROW(check_options(o), UsageError);
  o = SlurmOptions{};
  o.chunk = 0;
  EXPECT_THROW(check_options(o), UsageError);
}

TEST(Launch, ScriptsQuoteTheStudyAndCarryTheSlurmOptions) {
  Study s;
  s.dir = "/studies/it's $(here)";
  s.program = "/opt/grokscope/bin/grokscope";
  s.name = "demo";
  s.mode = "array";
  s.runs = 10;
  s.chunk = 3;
  s.tasks = task_count(10, 3);
  SlurmOptions o;
  o.throttle = 2;
  o.time = "01:00:00";
  o.signal_seconds = 120;
  const std::string script = array_script(s, o, "");
  EXPECT_NE(script.find("study='/studies/it'\\''s $(here)'\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --array=0-3%2\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --signal=B:USR2@120\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --time=01:00:00\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --requeue\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --output=logs/%x_%A_%a.out\n"), std::string::npos);
  // Every placeholder is filled (the template's comment names them as @NAMES@).
  for (const char* name : {"@SBATCH_LINES@", "@STUDY@", "@PROGRAM@", "@LAUNCH@", "@CHUNK@", "@RUNS@"})
    EXPECT_EQ(script.find(name), std::string::npos) << name;
  const std::string collect = collect_script(s, o);
  EXPECT_EQ(collect.find("--requeue"), std::string::npos);
  EXPECT_NE(collect.find("#SBATCH --job-name=grokscope-demo-collect\n"), std::string::npos);
  // Bash itself must accept the scripts.
  for (const auto& text : {script, collect, grid_script(s, o)}) {
    const CommandResult r = run_command({"/bin/bash", "-n", "-c", text});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

}  // namespace
}  // namespace grokscope::launch
