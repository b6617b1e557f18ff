// The lane bookkeeping and drawing of cli/graph.h.

#include "cli/graph.h"

#include <algorithm>
#include <cstdlib>

namespace larix::cli {
namespace {

std::string TrimRight(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

CommitGraphDrawing::Rows CommitGraphDrawing::Add(
    const ObjectId& commit, const std::vector<ObjectId>& parents) {
  size_t at = std::find(lanes_.begin(), lanes_.end(), commit) - lanes_.begin();
  if (at == lanes_.size()) lanes_.push_back(commit);
  const size_t n = lanes_.size();

  Rows rows;
  for (size_t j = 0; j < n; j++) {
    if (j > 0) {
      rows.commit += ' ';
      rows.beside += ' ';
    }
    rows.commit += j == at ? '*' : '|';
    rows.beside += j == at && parents.empty() ? ' ' : '|';
  }
  while (!rows.beside.empty() && rows.beside.back() == ' ') {
    rows.beside.pop_back();
  }
  if (rows.beside.empty()) rows.beside.push_back(' ');

  // Where each line goes: (column now, column next).  The commit's lane
  // goes on to its parents; other lanes go on waiting.  Lanes waiting for
  // the same commit join into the first of them.
  std::vector<ObjectId> next;
  std::vector<std::pair<size_t, size_t>> moves;
  auto go = [&](const ObjectId& id, size_t from) {
    size_t to = std::find(next.begin(), next.end(), id) - next.begin();
    if (to == next.size()) next.push_back(id);
    moves.push_back({from, to});
  };
  for (size_t j = 0; j < n; j++) {
    if (j != at) {
      go(lanes_[j], j);
      continue;
    }
    for (const ObjectId& p : parents) go(p, j);
  }
  lanes_ = std::move(next);

  size_t steps = 0;
  for (const auto& [from, to] : moves) {
    steps = std::max<size_t>(steps, from > to ? from - to : to - from);
  }
  size_t width = 2 * std::max(n, lanes_.size()) + 1;
  for (size_t step = 1; step <= steps; step++) {
    std::string r(width, ' ');
    for (const auto& [from, to] : moves) {
      size_t distance = from > to ? from - to : to - from;
      size_t done = std::min(step - 1, distance);
      size_t pos = from > to ? from - done : from + done;
      if (done == distance) {
        r[2 * pos] = '|';
      } else if (to < from) {
        r[2 * pos - 1] = '/';
      } else {
        r[2 * pos + 1] = '\\';
      }
    }
    rows.moves.push_back(TrimRight(r));
  }
  return rows;
}

std::string CommitGraphDrawing::Padding() const {
  if (lanes_.empty()) return " ";
  std::string row;
  for (size_t j = 0; j < lanes_.size(); j++) row += j > 0 ? " |" : "|";
  return row;
}

}  // namespace larix::cli
