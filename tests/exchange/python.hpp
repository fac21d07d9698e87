#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tessera/core/file.hpp"

namespace tessera::test {

// Runs a Python script with Debian's /usr/bin/python3 (the oracle: zipfile, csv, numpy), passing args
// as sys.argv[1:]; returns stdout+stderr and records a test failure if the script exits non-zero.
inline std::string run_python(const std::string& script, const std::vector<std::string>& args = {}) {
  static int counter = 0;
  const auto file = std::filesystem::temp_directory_path() /
                    fmt::format("tessera-exchange-{}-{}.py", ::getpid(), counter++);
  write_file_atomic(file, script);
  std::string command = "/usr/bin/python3 '" + file.string() + "'";
  for (const auto& arg : args) {
    std::string quoted;
    for (const char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += " '" + quoted + "'";
  }
  command += " 2>&1";
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  EXPECT_EQ(status, 0) << "python failed:\n" << out;
  return out;
}

}  // namespace tessera::test
