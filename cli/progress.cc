// ProgressLine (see progress.h).

#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace larix::cli {

namespace {
constexpr auto kMinInterval = std::chrono::milliseconds(100);
}  // namespace

ProgressLine::ProgressLine(std::string label, bool force)
    : label_(std::move(label)), enabled_(force || isatty(STDERR_FILENO)) {}

void ProgressLine::Update(uint64_t done, uint64_t total,
                          const std::string& unit, const std::string& what) {
  if (!enabled_) return;
  std::string t = label_ + ": ";
  if (!what.empty()) t += what + " ";
  t += std::to_string(done);
  if (total > 0) t += "/" + std::to_string(total);
  t += " " + unit;
  if (total > 0) {
    t += " (" + std::to_string(done >= total ? 100 : done * 100 / total) + "%)";
  }
  text_ = std::move(t);
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kMinInterval) return;
  last_draw_ = now;
  Draw();
}

void ProgressLine::Draw() {
  // Pad with blanks over a longer previous text.
  std::string line = "\r" + text_;
  if (text_.size() < last_width_) {
    line += std::string(last_width_ - text_.size(), ' ');
  }
  last_width_ = text_.size();
  drawn_text_ = text_;
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (!enabled_ || text_.empty()) return;
  if (text_ != drawn_text_) Draw();
  std::fputc('\n', stderr);
  text_.clear();
  drawn_text_.clear();
  last_width_ = 0;
  drawn_ = false;
}

}  // namespace larix::cli
