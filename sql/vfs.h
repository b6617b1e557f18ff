// The Larix VFS: SQLite's "database file" is a branch's page tree.
//
// Register it once per process with RegisterLarixVfs(); then
//
//   sqlite3_open_v2("/path/store@dev", &db, flags, "larix");
//   sqlite3_open_v2("file:/path/store?branch=dev&vfs=larix", ...);  // URI
//
// open branch `dev` of the store at /path/store (`main` if no branch is
// named).  See vfs.cc for the design and the commit point.

#ifndef LARIX_SQL_VFS_H_
#define LARIX_SQL_VFS_H_

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "larix/database.h"
#include "larix/status.h"
#include "sql/engine.h"

namespace larix {

inline constexpr char kVfsName[] = "larix";

// Registers the VFS (not as the default).  Idempotent, thread-safe.
int RegisterLarixVfs();

// A file control op private to Larix: pArg is a BranchFile** that receives
// the main database file of the connection.
inline constexpr int kFcntlLarixFile = 0x4c580001;


class BranchFile;

// The main database file of connection `db` (schema "main" unless given),
// or nullptr if it is not on the Larix VFS.
BranchFile* GetBranchFile(sqlite3* db, const char* schema = "main");

// What the SQL layer may ask of a connection's main database file.
class BranchFileControl {
 public:
  // The engine and branch name the file was opened on / moved to.  The
  // engine is null while another process holds the store.
  static Engine* engine(BranchFile* f);
  static const std::string& branch(BranchFile* f);
  // Moves the file to another branch; only with no transaction open.
  static Status SwitchBranch(BranchFile* f, const std::string& branch);
  // True while the file holds a write transaction.
  static bool InWriteTransaction(BranchFile* f);
  // The head commit of the connection's current snapshot (or of the branch
  // if no transaction is open).
  static Result<BranchHead> CurrentHead(BranchFile* f);
  // Detail of the last error the VFS returned to SQLite ("object 3fa9…:
  // hash mismatch"), empty if none.
  static std::string LastError(BranchFile* f);
  // Parents after the first of the next commit (a merge commit's source).
  static void SetExtraParents(BranchFile* f, std::vector<ObjectId> parents);
  // Notes a writing statement for the default message of the next commit.
  static void NoteStatement(BranchFile* f, const char* sql);
  // Author and message of the next commit (reset after each commit).
  static void SetCommitInfo(BranchFile* f, const std::string& author,
                            const std::string& message);
};

}  // namespace larix

#endif  // LARIX_SQL_VFS_H_
