#pragma once
// The typed error hierarchy. Every failure that reaches a user is one of these, so the CLI can turn
// it into one clear line and a non-zero exit code (see src/cli/main.cpp for the exit-code table).
#include <stdexcept>
#include <string>

namespace grokscope {

// Base of all grokscope errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration value or key is wrong. `key()` is the dotted path ("train.lr"), or empty when
// the problem is the file as a whole (malformed YAML).
class ConfigError : public Error {
 public:
  ConfigError(std::string key, const std::string& message)
      : Error(key.empty() ? message : "config key '" + key + "': " + message), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

// An input file is missing, unreadable, truncated or corrupt. `path()` names it.
class InputError : public Error {
 public:
  InputError(std::string path, const std::string& message)
      : Error(path + ": " + message), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// The API or a command was used in a way it does not support (wrong argument, bad combination).
class UsageError : public Error {
 public:
  using Error::Error;
};

// A feature that this build or this input does not support (e.g. NCCL without CUDA).
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

}  // namespace grokscope
