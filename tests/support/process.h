// Starts the medhub binary as a child process for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace medhub::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; its stdout is readable through ReadLineContaining().
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();  // SIGKILLs the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stdout lines until one contains `needle`; returns it, or "" on EOF or timeout.
  std::string ReadLineContaining(const std::string& needle, std::chrono::milliseconds timeout);
  // Everything read from stdout so far.
  const std::string& output() const { return output_; }
  void Signal(int sig);
  // Waits for exit; returns the exit code, 128+signal when killed, -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  size_t consumed_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
};

// The port in a "listening on http://127.0.0.1:PORT" line, or 0.
int PortFromListeningLine(const std::string& line);

}  // namespace medhub::testing
