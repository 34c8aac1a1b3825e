// runProgram: runs a helper program (resolvconf) to completion, with bytes on its stdin, its
// stdout and stderr collected, and a hard time limit. Used only where the system offers no API
// (resolvconf has none); nothing here goes through a shell.
#pragma once

#include <string>
#include <vector>

namespace calnet::helper::netconfig {

struct ProgramResult {
    int spawnError = 0;    // errno when the program could not be started (ENOENT, EACCES, ...)
    bool timedOut = false; // killed with SIGKILL after the time limit
    int exitStatus = -1;   // exit code, or -1 when it did not exit normally
    std::string output;    // stdout and stderr interleaved, at most kMaxProgramOutput bytes

    [[nodiscard]] bool ok() const { return spawnError == 0 && !timedOut && exitStatus == 0; }
    // "exit status 1: <output>", "killed after 10000 ms", "No such file or directory".
    [[nodiscard]] std::string describe() const;
};

inline constexpr std::size_t kMaxProgramOutput = 4096;
// The input is written to a pipe before the program starts, so it must fit in the pipe buffer
// (the kernel's minimum is 4 KiB pages x 16).
inline constexpr std::size_t kMaxProgramInput = 32 * 1024;

// `program` is a path, or a name looked up in PATH. The child gets the caller's environment,
// an empty signal mask and default signal dispositions.
[[nodiscard]] ProgramResult runProgram(const std::string& program,
                                       const std::vector<std::string>& args,
                                       const std::string& input, int timeoutMs);

// Where `program` would be found (itself if it contains a '/'); "" if nowhere.
[[nodiscard]] std::string findProgram(const std::string& program);

} // namespace calnet::helper::netconfig
