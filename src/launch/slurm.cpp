#include "grokscope/launch/slurm.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "grokscope/core/error.hpp"
#include "grokscope/launch/templates.hpp"

namespace fs = std::filesystem;

namespace grokscope::launch {
namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// One #SBATCH value: sbatch splits these lines itself, without shell quoting, so a value must be
// a single plain word.
void check_word(const std::string& option, const std::string& value) {
  for (char ch : value)
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == '"' || ch == '\'' || ch == '\\' || ch == '#')
      throw UsageError(option + ": '" + value +
                       "' cannot go into an #SBATCH line (no whitespace, quotes, backslashes or '#')");
}

std::string sbatch_lines(const Study& study, const SlurmOptions& o, const std::string& kind,
                         const std::string& array) {
  std::vector<std::string> lines;
  auto add = [&](const std::string& option, const std::string& value = "") {
    lines.push_back("#SBATCH " + option + (value.empty() ? "" : "=" + value));
  };
  const std::string base = o.job_name.empty() ? "grokscope-" + study.name : o.job_name;
  add("--job-name", kind == "collect" ? base + "-collect" : base);
  // Relative to the job's working directory, the study folder (sbatch runs there): the study's
  // absolute path may hold characters an #SBATCH line cannot carry.
  add("--output", kind == "array" ? "logs/%x_%A_%a.out" : "logs/%x_%j.out");
  add("--open-mode", "append");
  if (kind == "array") add("--array", array);
  if (kind != "collect") {
    add("--requeue");
    add("--signal", "B:USR2@" + std::to_string(o.signal_seconds));
    if (o.nodes > 0) add("--nodes", std::to_string(o.nodes));
    add("--ntasks", std::to_string(o.ntasks > 0 ? o.ntasks : 1));
    if (o.cpus_per_task > 0) add("--cpus-per-task", std::to_string(o.cpus_per_task));
    if (!o.gpus.empty()) add("--gpus", o.gpus);
    if (!o.time.empty()) add("--time", o.time);
  } else {
    add("--ntasks", "1");
  }
  if (!o.partition.empty()) add("--partition", o.partition);
  if (!o.account.empty()) add("--account", o.account);
  if (!o.qos.empty()) add("--qos", o.qos);
  if (kind != "collect")
    for (const auto& extra : o.sbatch_args) lines.push_back("#SBATCH " + extra);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  text.pop_back();
  return text;
}

std::string launcher_words(const SlurmOptions& o) {
  std::string words;
  std::istringstream in(o.launcher);
  for (std::string w; in >> w;) words += (words.empty() ? "" : " ") + shell_quote(w);
  return words;
}

std::string fill(const char* tmpl, const Study& study, const SlurmOptions& o, const std::string& kind,
                 const std::string& array) {
  std::string text = tmpl;
  text = replace_all(text, "@SBATCH_LINES@", sbatch_lines(study, o, kind, array));
  text = replace_all(text, "@STUDY@", shell_quote(study.dir));
  text = replace_all(text, "@PROGRAM@", shell_quote(study.program));
  text = replace_all(text, "@LAUNCH@", launcher_words(o));
  text = replace_all(text, "@CHUNK@", shell_quote(std::to_string(study.chunk)));
  text = replace_all(text, "@RUNS@", shell_quote(std::to_string(study.runs)));
  return text;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

void check_options(const SlurmOptions& o) {
  if (o.mode != "array" && o.mode != "mpi") throw UsageError("--mode: expected 'array' or 'mpi', got '" + o.mode + "'");
  if (o.chunk == 0) throw UsageError("--chunk: must be >= 1");
  if (o.signal_seconds < 1) throw UsageError("--signal-seconds: must be >= 1");
  if (o.nodes < 0 || o.ntasks < 0 || o.cpus_per_task < 0) throw UsageError("--nodes/--ntasks/--cpus-per-task: must be >= 1");
  const std::pair<const char*, const std::string*> words[] = {
      {"--job-name", &o.job_name}, {"--partition", &o.partition}, {"--time", &o.time},
      {"--account", &o.account},   {"--qos", &o.qos},             {"--gpus", &o.gpus}};
  for (const auto& [option, value] : words) check_word(option, *value);
  for (const auto& extra : o.sbatch_args) {
    if (extra.rfind("--", 0) != 0) throw UsageError("--sbatch-arg: expected an option like --mem=4G, got '" + extra + "'");
    check_word("--sbatch-arg", extra);
  }
  if (o.launcher.find_first_of("\n'\"\\$`") != std::string::npos)
    throw UsageError("--launcher: plain words only (it is split on spaces), got '" + o.launcher + "'");
}

std::size_t task_count(std::size_t runs, std::size_t chunk) { return (runs + chunk - 1) / chunk; }

Study Study::load(const std::string& dir) {
  const fs::path file = fs::path(dir) / "study.yaml";
  if (!fs::exists(file)) throw InputError(dir, "not a grokscope study folder (no study.yaml; see grokscope submit)");
  Study s;
  try {
    const YAML::Node n = YAML::LoadFile(file.string());
    s.dir = fs::absolute(dir).lexically_normal().string();
    if (!s.dir.empty() && s.dir.back() == '/') s.dir.pop_back();
    s.mode = n["mode"].as<std::string>();
    s.program = n["program"].as<std::string>();
    s.name = n["name"].as<std::string>();
    s.runs = n["runs"].as<std::size_t>();
    s.chunk = n["chunk"].as<std::size_t>();
    s.tasks = n["tasks"].as<std::size_t>();
    for (const auto& j : n["jobs"])
      s.jobs.push_back({j["kind"].as<std::string>(), j["id"].as<std::string>(),
                        j["tasks"] ? j["tasks"].as<std::string>() : std::string()});
  } catch (const YAML::Exception& e) {
    throw InputError(file.string(), std::string("unreadable study file: ") + e.what());
  }
  return s;
}

void Study::save() const {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "mode" << YAML::Value << mode << YAML::Key << "program" << YAML::Value
      << program << YAML::Key << "name" << YAML::Value << name << YAML::Key << "runs" << YAML::Value << runs
      << YAML::Key << "chunk" << YAML::Value << chunk << YAML::Key << "tasks" << YAML::Value << tasks
      << YAML::Key << "jobs" << YAML::Value << YAML::BeginSeq;
  for (const auto& j : jobs) {
    out << YAML::BeginMap << YAML::Key << "kind" << YAML::Value << j.kind << YAML::Key << "id" << YAML::Value
        << j.id;
    if (!j.tasks.empty()) out << YAML::Key << "tasks" << YAML::Value << j.tasks;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  const fs::path file = fs::path(dir) / "study.yaml", tmp = fs::path(dir) / "study.yaml.tmp";
  {
    std::ofstream f(tmp);
    f << "# grokscope study (written by grokscope submit/collect)\n" << out.c_str() << "\n";
    if (!f) throw Error(tmp.string() + ": cannot write the study file");
  }
  fs::rename(tmp, file);
}

std::string Study::part(std::size_t task, bool running) const {
  char name[64];
  std::snprintf(name, sizeof name, "task_%04zu%s.h5", task, running ? ".running" : "");
  return (fs::path(dir) / "parts" / name).string();
}

std::string array_script(const Study& study, const SlurmOptions& options, const std::string& array) {
  std::string list = array.empty() ? (study.tasks == 1 ? "0" : "0-" + std::to_string(study.tasks - 1)) : array;
  if (options.throttle > 0) list += "%" + std::to_string(options.throttle);
  return fill(templates::array, study, options, "array", list);
}
std::string grid_script(const Study& study, const SlurmOptions& options) {
  return fill(templates::grid, study, options, "grid", "");
}
std::string collect_script(const Study& study, const SlurmOptions& options) {
  return fill(templates::collect, study, options, "collect", "");
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& cwd) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw Error("pipe: " + std::string(std::strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) throw Error("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]), close(out_pipe[1]), close(err_pipe[0]), close(err_pipe[1]);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "%s: %s\n", argv[0].c_str(), std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]), close(err_pipe[1]);
  CommandResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (result.exit_code == 127 && result.err.find(argv[0] + ": ") == 0)
    throw Error("cannot run '" + argv[0] + "' (" + result.err.substr(argv[0].size() + 2, result.err.size() - argv[0].size() - 3) +
                "): is Slurm installed and on PATH?");
  return result;
}

std::string sbatch(const Study& study, const std::string& script, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(script);
  const CommandResult r = run_command(argv, study.dir);
  std::string id = r.out.substr(0, r.out.find_first_of(";\n"));
  if (r.exit_code != 0 || id.empty())
    throw Error("sbatch " + script + " failed (exit " + std::to_string(r.exit_code) + "): " +
                (r.err.empty() ? r.out : r.err));
  return id;
}

std::vector<std::pair<std::string, std::string>> queue_states(const std::vector<std::string>& ids) {
  std::vector<std::pair<std::string, std::string>> states;
  if (ids.empty()) return states;
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  // -r: one line per array element, also for pending ones ("12_[3-5%2]" otherwise).
  const CommandResult r = run_command({"squeue", "-h", "-r", "-j", list, "-o", "%i|%T"});
  // squeue exits 1 with "Invalid job id" when every listed job has left the queue.
  if (r.exit_code != 0 && r.err.find("Invalid job id") == std::string::npos)
    throw Error("squeue failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const auto bar = line.find('|');
    if (bar != std::string::npos) states.emplace_back(line.substr(0, bar), line.substr(bar + 1));
  }
  return states;
}

std::string array_list(const std::vector<std::size_t>& tasks) {
  std::string out;
  for (std::size_t i = 0; i < tasks.size();) {
    std::size_t j = i;
    while (j + 1 < tasks.size() && tasks[j + 1] == tasks[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(tasks[i]) + (j > i ? "-" + std::to_string(tasks[j]) : "");
    i = j + 1;
  }
  return out;
}

}  // namespace grokscope::launch
