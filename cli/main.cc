// The `larix` command: argument parsing with CLI11, and the process edge.
//
// This file only wires verbs to the functions that run them
// (cli/commands.h, cli/repl.h); it holds no behaviour of its own.  It is
// also the one place exceptions are caught: CLI11 reports parse errors by
// throwing, and nothing thrown may escape main.  Every failure leaves as
// one line on stderr, "larix: <message>", and a non-zero exit code
// (2 for a command line that does not parse, 1 for everything else).

#include <CLI/CLI.hpp>

#include <clocale>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/repl.h"

namespace larix::cli {
namespace {

// The verb being parsed, for "see 'larix VERB --help'".
std::string HelpHint(const CLI::App& app) {
  std::vector<CLI::App*> subs = app.get_subcommands();
  return subs.empty() ? "larix --help" : "larix " + subs[0]->get_name() +
                                             " --help";
}

CLI::App* AddVerb(CLI::App& app, std::vector<CLI::App*>* verbs,
                  const char* name, const char* description,
                  const char* example) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->footer(std::string("Example:\n  ") + example);
  verbs->push_back(sub);
  return sub;
}

int Main(int argc, char** argv) {
  CLI::App app{"Larix: a versioned SQL database.  Every committed "
               "transaction is a commit on a branch.",
               "larix"};
  app.set_version_flag("--version", std::string("larix ") + kLarixVersion);
  app.require_subcommand(1);
  app.footer("Run 'larix VERB --help' for a verb's options.  A store is "
             "named STORE or STORE@branch.");

  int code = kExitOk;
  std::function<int()> run;  // set by the verb's callback during parsing
  std::vector<CLI::App*> verbs;

  InitArgs init;
  CLI::App* init_cmd = AddVerb(app, &verbs, "init",
                               "Create a new, empty store.",
                               "larix init /data/shop");
  init_cmd->add_option("STORE", init.store, "Directory to create the store in")
      ->required();
  init_cmd->add_option("--backend", init.backend, "Object backend")
      ->check(CLI::IsMember({"pack", "leveldb"}));
  init_cmd->callback([&] { run = [&] { return RunInit(init); }; });

  SqlArgs sql;
  std::string sql_command, sql_format;
  CLI::App* sql_cmd = AddVerb(
      app, &verbs, "sql",
      "Run SQL on a branch: -c SQL, a script FILE or stdin, or an "
      "interactive shell.",
      "larix sql /data/shop@dev -c \"SELECT count(*) FROM orders\" "
      "--format json");
  sql_cmd->add_option("STORE", sql.store, "STORE or STORE@branch")->required();
  sql_cmd->add_option("FILE", sql.file, "Script to run ('-' = stdin)");
  CLI::Option* command_opt =
      sql_cmd->add_option("-c,--command", sql_command, "SQL to run, then exit");
  sql_cmd->add_option("-b,--branch", sql.branch, "Branch (default: main)");
  sql_cmd
      ->add_option("-f,--format", sql_format,
                   "Output: table (default), csv, json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  sql_cmd->callback([&] {
    if (command_opt->count() > 0) sql.command = sql_command;
    if (!sql_format.empty()) ParseOutputFormat(sql_format, &sql.format);
    run = [&] { return RunSql(sql); };
  });

  LogArgs log;
  CLI::App* log_cmd =
      AddVerb(app, &verbs, "log", "Show a branch's commits, newest first.",
              "larix log /data/shop@dev -n 5 --oneline");
  log_cmd->add_option("STORE", log.store, "STORE or STORE@branch")->required();
  log_cmd->add_option("-b,--branch", log.branch,
                      "Branch, tag or commit (default: main)");
  log_cmd->add_option("-n,--max-count", log.max_count,
                      "Show at most N commits");
  log_cmd->add_flag("--oneline", log.oneline, "One line per commit");
  log_cmd->add_flag("--graph", log.graph,
                    "Draw the commit graph (merges, forks) beside the commits");
  log_cmd->add_flag("--all", log.all,
                    "Show the commits of every branch and tag");
  log_cmd->callback([&] { run = [&] { return RunLog(log); }; });

  BranchArgs branch;
  CLI::App* branch_cmd = AddVerb(
      app, &verbs, "branch",
      "List, create, delete or rename branches (* marks HEAD's branch).",
      "larix branch /data/shop dev --from main --as-of '2025-11-20 00:00:00'");
  branch_cmd->add_option("STORE", branch.store, "STORE or STORE@branch")
      ->required();
  CLI::Option* branch_name = branch_cmd->add_option(
      "NAME", branch.name, "Branch to create (none: list the branches)");
  branch_cmd->add_option("--from", branch.from,
                         "Create from this branch, tag or commit (default: "
                         "STORE@branch, else HEAD's branch)")
      ->needs(branch_name);
  branch_cmd->add_option("--as-of", branch.as_of,
                         "Create from the branch as of a time, a transaction "
                         "number, or 'now' (default)")
      ->needs(branch_name);
  CLI::Option* branch_delete = branch_cmd->add_option(
      "-d,--delete", branch.delete_name, "Delete branch (or alias) NAME");
  CLI::Option* branch_rename =
      branch_cmd->add_option("-m,--move", branch.rename, "Rename OLD to NEW")
          ->expected(2)
          ->type_name("OLD NEW");
  branch_delete->excludes(branch_rename)->excludes(branch_name);
  branch_rename->excludes(branch_name);
  branch_cmd->add_option("-b,--branch", branch.branch,
                         "Branch to work from (as STORE@branch)");
  branch_cmd->add_flag("-v,--verbose", branch.verbose,
                       "List with head commit, txn and parent branch");
  branch_cmd->callback([&] { run = [&] { return RunBranch(branch); }; });

  TagArgs tag;
  CLI::App* tag_cmd = AddVerb(app, &verbs, "tag",
                              "List, create or delete tags (named commits).",
                              "larix tag /data/shop v1.0 main~2");
  tag_cmd->add_option("STORE", tag.store, "STORE or STORE@branch")->required();
  CLI::Option* tag_name =
      tag_cmd->add_option("NAME", tag.name, "Tag to create (none: list tags)");
  tag_cmd->add_option("REV", tag.rev,
                      "Commit to tag: branch, tag, id prefix, with ^ or ~N "
                      "(default: the branch's head)")
      ->needs(tag_name);
  tag_cmd->add_option("-d,--delete", tag.delete_name, "Delete tag NAME")
      ->excludes(tag_name);
  tag_cmd->callback([&] { run = [&] { return RunTag(tag); }; });

  MergeArgs merge;
  CLI::App* merge_cmd = AddVerb(
      app, &verbs, "merge",
      "Merge a branch into another (fast-forward or three-way merge "
      "commit).",
      "larix merge /data/shop dev --into main --strategy branch_wins");
  merge_cmd->add_option("STORE", merge.store, "STORE or STORE@target")
      ->required();
  merge_cmd->add_option("SOURCE", merge.source, "Branch to merge");
  merge_cmd->add_option("--into", merge.into,
                        "Target branch (default: STORE@branch, else HEAD's "
                        "branch)");
  merge_cmd
      ->add_option("-s,--strategy", merge.strategy,
                   "On conflicts: fail (default), branch_wins, target_wins, "
                   "or manual (stop and resolve them with SQL)")
      ->check(CLI::IsMember({"branch_wins", "target_wins", "fail", "manual"}));
  merge_cmd->add_flag("--delete-branch", merge.delete_branch,
                      "Delete SOURCE after merging it");
  CLI::Option* merge_continue = merge_cmd->add_flag(
      "--continue", merge.continue_merge,
      "Commit a manual merge whose conflicts are resolved");
  CLI::Option* merge_abort = merge_cmd->add_flag(
      "--abort", merge.abort_merge, "Give up a manual merge in progress");
  merge_continue->excludes(merge_abort);
  merge_cmd->callback([&] { run = [&] { return RunMerge(merge); }; });

  PickArgs pick;
  CLI::App* pick_cmd = AddVerb(
      app, &verbs, "cherry-pick",
      "Apply the change one commit made to a branch, as a new commit.",
      "larix cherry-pick /data/shop dev~2 --onto main");
  PickArgs revert;
  CLI::App* revert_cmd = AddVerb(
      app, &verbs, "revert",
      "Undo the change one commit made, as a new commit on a branch.",
      "larix revert /data/shop 3f2a9c --onto main");
  for (auto [cmd, args] : {std::pair{pick_cmd, &pick},
                           std::pair{revert_cmd, &revert}}) {
    cmd->add_option("STORE", args->store, "STORE or STORE@branch")
        ->required();
    cmd->add_option("REV", args->rev,
                    "Commit: branch, tag, id prefix, with ^ or ~N")
        ->required();
    cmd->add_option("--onto", args->onto,
                    "Branch to commit on (default: STORE@branch, else "
                    "HEAD's branch)");
    cmd->add_option("-s,--strategy", args->strategy,
                    "On conflicts: fail (default), branch_wins (the "
                    "commit's side), target_wins")
        ->check(CLI::IsMember({"branch_wins", "target_wins", "fail"}));
  }
  pick_cmd->callback([&] { run = [&] { return RunCherryPick(pick, false); }; });
  revert_cmd->callback(
      [&] { run = [&] { return RunCherryPick(revert, true); }; });

  ResetArgs reset;
  CLI::App* reset_cmd = AddVerb(
      app, &verbs, "reset",
      "Move a branch to another commit (its old head stays in the reflog).",
      "larix reset /data/shop main main~2");
  reset_cmd->add_option("STORE", reset.store, "Store directory")->required();
  reset_cmd->add_option("BRANCH", reset.branch, "Branch to move")->required();
  reset_cmd->add_option("REV", reset.rev,
                        "Commit: branch, tag, id prefix, with ^ or ~N")
      ->required();
  reset_cmd->callback([&] { run = [&] { return RunReset(reset); }; });

  ShowArgs show;
  CLI::App* show_cmd = AddVerb(
      app, &verbs, "show",
      "Show a commit and the tables it changed (against its first parent).",
      "larix show /data/shop main~1");
  show_cmd->add_option("STORE", show.store, "STORE or STORE@branch")
      ->required();
  show_cmd->add_option("REV", show.rev,
                       "Commit: branch, tag, id prefix, with ^ or ~N "
                       "(default: the branch's head)");
  show_cmd->callback([&] { run = [&] { return RunShow(show); }; });

  DiffArgs diff;
  CLI::App* diff_cmd = AddVerb(
      app, &verbs, "diff",
      "Show the rows that differ between two commits (+ added, - removed, "
      "~ modified).",
      "larix diff /data/shop main dev --table orders");
  diff_cmd->add_option("STORE", diff.store, "STORE or STORE@branch")
      ->required();
  diff_cmd->add_option("FROM", diff.from, "Old side: branch, tag, commit")
      ->required();
  diff_cmd->add_option("TO", diff.to,
                       "New side (default: STORE@branch, else HEAD's "
                       "branch)");
  diff_cmd->add_option("-t,--table", diff.table, "Only this table");
  diff_cmd->add_flag("--stat", diff.stat, "Only count the changes per table");
  diff_cmd->callback([&] { run = [&] { return RunDiff(diff); }; });

  BlameArgs blame;
  CLI::App* blame_cmd = AddVerb(
      app, &verbs, "blame",
      "Show, for each row of a table, the commit that last changed it.",
      "larix blame /data/shop@main orders");
  blame_cmd->add_option("STORE", blame.store, "STORE or STORE@branch")
      ->required();
  blame_cmd->add_option("TABLE", blame.table, "Table")->required();
  blame_cmd->add_option("-b,--branch", blame.branch,
                        "Branch, tag or commit (default: HEAD's branch)");
  blame_cmd->callback([&] { run = [&] { return RunBlame(blame); }; });

  ImportArgs import;
  CLI::App* import_cmd = AddVerb(
      app, &verbs, "import",
      "Import a SQLite database file as one commit (creates STORE if "
      "missing).",
      "larix import shop.db /data/shop --branch main");
  import_cmd->add_option("SQLITE_FILE", import.file, "SQLite file to read")
      ->required();
  import_cmd->add_option("STORE", import.store, "STORE or STORE@branch")
      ->required();
  import_cmd->add_option("-b,--branch", import.branch,
                         "Branch to import into (default: main)");
  import_cmd->add_flag("--force", import.force,
                       "Replace the content of a non-empty branch");
  import_cmd->add_flag("--progress", import.progress,
                       "Show progress even when stderr is not a terminal");
  import_cmd->callback([&] { run = [&] { return RunImport(import); }; });

  ExportArgs exp;
  CLI::App* export_cmd = AddVerb(
      app, &verbs, "export",
      "Write a branch or commit to a new SQLite database file.",
      "larix export /data/shop@main shop-copy.db");
  export_cmd->add_option("STORE", exp.store, "STORE or STORE@branch")
      ->required();
  export_cmd->add_option("OUT", exp.out, "SQLite file to create")->required();
  CLI::Option* branch_opt = export_cmd->add_option(
      "-b,--branch", exp.branch, "Branch to export (default: main)");
  export_cmd
      ->add_option("--commit", exp.commit, "Commit id (prefix), tag or branch")
      ->excludes(branch_opt);
  export_cmd->add_flag("--force", exp.force, "Overwrite OUT if it exists");
  export_cmd->add_flag("--progress", exp.progress,
                       "Show progress even when stderr is not a terminal");
  export_cmd->callback([&] { run = [&] { return RunExport(exp); }; });

  FsckArgs fsck;
  CLI::App* fsck_cmd = AddVerb(
      app, &verbs, "fsck",
      "Verify every object, edge and ref of a store; exit 1 on problems.",
      "larix fsck /data/shop");
  fsck_cmd->add_option("STORE", fsck.store, "Store directory")->required();
  fsck_cmd->add_flag("--progress", fsck.progress,
                     "Show progress even when stderr is not a terminal");
  fsck_cmd->callback([&] { run = [&] { return RunFsck(fsck); }; });

  GcArgs gc;
  CLI::App* gc_cmd = AddVerb(
      app, &verbs, "gc",
      "Remove objects no branch, tag or recent history can reach.",
      "larix gc /data/shop --retention 12h");
  gc_cmd->add_option("STORE", gc.store, "Store directory")->required();
  gc_cmd->add_option("--retention", gc.retention,
                     "Keep history younger than this: 7d (default), 12h, "
                     "30m, 45s, 2w or 0");
  gc_cmd->add_flag("--progress", gc.progress,
                   "Show progress even when stderr is not a terminal");
  gc_cmd->callback([&] { run = [&] { return RunGc(gc); }; });

  // CLI11 would call an unknown verb a stray argument.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* sub : verbs) {
      known = known || sub->get_name() == argv[1];
    }
    if (!known) {
      std::fprintf(stderr,
                   "larix: '%s' is not a larix command (see 'larix --help')\n",
                   argv[1]);
      return kExitUsage;
    }
  } else if (argc == 1) {
    std::fprintf(stderr,
                 "larix: a command is required: init, sql, log, branch, "
                 "tag, merge, cherry-pick, revert, reset, show, diff, "
                 "blame, import, export, fsck or gc (see 'larix --help')\n");
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.empty()) what = e.get_name();
    std::fprintf(stderr, "larix: %s (see '%s')\n", what.c_str(),
                 HelpHint(app).c_str());
    return kExitUsage;
  }
  if (run) code = run();
  return code;
}

}  // namespace
}  // namespace larix::cli

int main(int argc, char** argv) {
  // Display widths of UTF-8 text (wcwidth) follow the user's locale.
  std::setlocale(LC_CTYPE, "");
  try {
    return larix::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "larix: internal error: %s\n", e.what());
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "larix: internal error\n");
  }
  return larix::cli::kExitFailure;
}
