// larix._larix: the little the Python package needs from the C++ core.
//
// The package (src/larix/) subclasses the standard sqlite3.Connection and
// opens it on the Larix VFS with a file: URI, so SQL never passes through
// here.  This module only
//   1. registers the VFS and the auto-extension in the process's SQLite
//      library (which must be the one Python's _sqlite3 uses: the package
//      checks that at import);
//   2. creates a store, importing existing SQLite files into it
//      (larix::ImportSqliteFile), for connect('app.db');
//   3. checks that a SQLite file can be read (larix::CheckSqliteFile);
//   4. splits a script into statements exactly where SQLite would
//      (larix::SplitScript), for Cursor.executescript, which must translate
//      Larix statements one at a time.
//
// Errors are raised as larix._larix.StoreError(code, message), code being
// the Status code's name ("Busy", "NotFound", ...); the package turns them
// into sqlite3-style exceptions.  Every call that touches files releases
// the GIL.

#include <dlfcn.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "larix/database.h"
#include "larix/store.h"
#include "larix/transfer.h"

namespace py = pybind11;

namespace {

const char* CodeName(larix::Status::Code code) {
  using C = larix::Status::Code;
  switch (code) {
    case C::kOk: return "OK";
    case C::kNotFound: return "NotFound";
    case C::kCorruption: return "Corruption";
    case C::kIOError: return "IOError";
    case C::kInvalidArgument: return "InvalidArgument";
    case C::kNotSupported: return "NotSupported";
    case C::kConflict: return "Conflict";
    case C::kBusy: return "Busy";
    case C::kAlreadyExists: return "AlreadyExists";
    case C::kFull: return "Full";
  }
  return "Unknown";
}

PyObject* store_error = nullptr;  // larix._larix.StoreError

// Raises StoreError(code, message) for a failed Status.  Needs the GIL.
void ThrowIfError(const larix::Status& s) {
  if (s.ok()) return;
  py::object args = py::make_tuple(CodeName(s.code()), s.message());
  PyErr_SetObject(store_error, args.ptr());
  throw py::error_already_set();
}

// Creates a new store at `store_path` (which must not be a store yet) and
// imports each (branch, SQLite file) of `imports` into it, in order, each as
// the first commit of its branch.  The store is closed again before
// returning, so connections can open it.  Returns the import commits' ids
// in hex.
//
// Only for stores that do not exist yet: a store that connections of this
// process have open must never be opened a second time (closing the second
// handle would drop the process's lock on it).
py::list CreateStore(const std::string& store_path,
                     const std::vector<std::pair<std::string, std::string>>&
                         imports) {
  larix::Status s;
  std::vector<std::string> commits;
  {
    py::gil_scoped_release release;
    larix::StoreOptions options;
    options.create_if_missing = true;
    options.error_if_exists = true;
    std::unique_ptr<larix::Store> store;
    s = larix::Store::Open(store_path, options, &store);
    for (size_t i = 0; s.ok() && i < imports.size(); i++) {
      larix::CommitResult imported;
      s = larix::ImportSqliteFile(imports[i].second, store.get(),
                                  imports[i].first, {}, &imported);
      if (s.ok()) commits.push_back(imported.commit.ToHex());
    }
  }
  ThrowIfError(s);
  py::list out;
  for (const std::string& c : commits) out.append(c);
  return out;
}

void CheckSqliteFile(const std::string& sqlite_path) {
  larix::Status s;
  {
    py::gil_scoped_release release;
    s = larix::CheckSqliteFile(sqlite_path);
  }
  ThrowIfError(s);
}

// The statements of `script` (each from its first significant byte through
// its ';'), as larix::SplitScript cuts them.  Pure; the GIL is kept (the
// work is a tokenizer pass, linear in the script).
std::vector<std::string> SplitScriptTexts(const std::string& script) {
  std::vector<std::string> out;
  for (const larix::ScriptStatement& s : larix::SplitScript(script)) {
    out.emplace_back(s.text);
  }
  return out;
}

// The file the SQLite library this module calls was loaded from, so an
// import error can name both libraries when they differ.
std::string SqliteLibraryPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&sqlite3_libversion), &info) != 0 &&
      info.dli_fname != nullptr) {
    return info.dli_fname;
  }
  return "";
}

}  // namespace

PYBIND11_MODULE(_larix, m) {
  m.doc() = "The C++ core of the larix package (internal).";
  store_error = PyErr_NewException("larix._larix.StoreError",
                                   PyExc_Exception, nullptr);
  m.add_object("StoreError", py::handle(store_error));

  m.def("register", &larix::RegisterLarix,
        "Registers the Larix VFS and auto-extension; returns a SQLite code.");
  m.def("sqlite_libversion", [] { return std::string(sqlite3_libversion()); });
  m.def("sqlite_library_path", &SqliteLibraryPath);
  m.def("create_store", &CreateStore, py::arg("store_path"),
        py::arg("imports") =
            std::vector<std::pair<std::string, std::string>>());
  m.def("check_sqlite_file", &CheckSqliteFile, py::arg("sqlite_path"));
  m.def("split_script", &SplitScriptTexts, py::arg("script"),
        "The statements of a SQL script, split where SQLite would.");
  m.attr("vfs_name") = "larix";
  m.attr("default_branch") = larix::kDefaultBranch;
  m.attr("memory_prefix") = "larix-memory:";
}
