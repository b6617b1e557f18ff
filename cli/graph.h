// The commit graph `larix log --graph` draws beside the commits, in the
// style of `git log --graph`:
//
//   * a1b2c3  merge of dev             a merge: its lane forks ...
//   |\                                 ... into one lane per parent
//   | * d4e5f6  on dev
//   * | 0718aa  on main
//   |/                                  two lanes wait for the same commit
//   * 9b0c1d  base
//
// Lanes.  Each column ("lane") waits for one commit: the next parent to be
// shown on that line of descent.  Commits must arrive children before
// parents (CommitGraph::Log's order, by transaction number, is such an
// order).  A commit takes the first lane waiting for it (a new lane on the
// right if none is); its lane then waits for its first parent, and new lanes
// right of it for its other parents.  Lanes waiting for the same commit
// join into the leftmost.  The rows after a commit's row draw each lane's
// move to its new column, one column per row ('/' left, '\' right).
//
// Not thread-safe; one drawing per log.

#ifndef LARIX_CLI_GRAPH_H_
#define LARIX_CLI_GRAPH_H_

#include <string>
#include <vector>

#include "larix/object_id.h"

namespace larix::cli {

class CommitGraphDrawing {
 public:
  struct Rows {
    std::string commit;  // the commit's row: "* |" (no trailing blanks)
    // Straight lanes ("| |") to put beside the commit's further lines:
    // the lanes of the commit row, the commit's own blank if it is a root.
    std::string beside;
    // The rows that move lanes to their new columns ("|/", "|\\"); none
    // when every lane goes straight on.
    std::vector<std::string> moves;
  };

  // Adds the next commit.
  Rows Add(const ObjectId& commit, const std::vector<ObjectId>& parents);

  // Straight lanes for the lanes open now ("| |"); " " when none is.
  std::string Padding() const;

 private:
  std::vector<ObjectId> lanes_;  // the commit each lane waits for
};

}  // namespace larix::cli

#endif  // LARIX_CLI_GRAPH_H_
