// ProgressLine: the single updating status line that long-running verbs
// (import, export, gc, fsck) draw on stderr.
//
// Shown when stderr is a terminal or --progress was given; otherwise every
// call is a no-op, so scripts and pipes see only the final results.  The
// line is redrawn in place with '\r', at most every 100 ms (about 10
// updates a second) however often Update is called, and Finish() ends it
// with a newline so later output starts on a fresh line.
//
// Thread-safety: one thread.

#ifndef LARIX_CLI_PROGRESS_H_
#define LARIX_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace larix::cli {

class ProgressLine {
 public:
  // `force`: draw even when stderr is not a terminal (--progress).
  ProgressLine(std::string label, bool force);
  ~ProgressLine() { Finish(); }

  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return enabled_; }

  // "<label>: <what> <done>/<total> <unit> (nn%)"; total 0 = unknown.
  // `what` (e.g. a GC phase) may be empty.
  void Update(uint64_t done, uint64_t total, const std::string& unit,
              const std::string& what = "");

  // Draws the last state unthrottled and ends the line.  Idempotent.
  void Finish();

 private:
  void Draw();

  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::string text_;        // the latest state
  std::string drawn_text_;  // the state on screen
  size_t last_width_ = 0;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace larix::cli

#endif  // LARIX_CLI_PROGRESS_H_
