// What both LevelDB-based backends (leveldb_backend.cc, pack_backend.cc)
// need from LevelDB besides the database itself: turning its Status into
// Larix's, and sizing a directory through the Env (so fault-injecting Envs
// see every file access).

#ifndef LARIX_OBJECTS_LEVELDB_ENV_H_
#define LARIX_OBJECTS_LEVELDB_ENV_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "larix/status.h"
#include "leveldb/env.h"
#include "leveldb/status.h"

namespace larix {

// Maps a LevelDB (or leveldb::Env) status to a Larix one, with `context`
// (naming the directory, object or record) in front of LevelDB's message:
// ENOSPC is Full, a held LOCK is Busy, a missing database NotFound, an
// existing one AlreadyExists.
Status FromLevelDb(const leveldb::Status& s, std::string_view context);

// Adds the sizes of the files directly in `dir` to *bytes.
Status AddDirectoryBytes(leveldb::Env* env, const std::string& dir,
                         uint64_t* bytes);

}  // namespace larix

#endif  // LARIX_OBJECTS_LEVELDB_ENV_H_
