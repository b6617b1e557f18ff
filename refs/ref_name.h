// Ref names: which strings may name a ref, and the short forms people type.
//
// Larix names refs the way git does (docs/format.md, "Refs and reflogs"):
//
//   refs/heads/<name>     branches
//   refs/tags/<name>      tags
//   refs/aliases/<name>   symbolic aliases (production -> refs/heads/blue)
//   HEAD, ORIG_HEAD, ...  one-level "root refs": only A-Z, '_' and '-'
//
// Every name must also pass git's check-ref-format rules, implemented here
// from git-check-ref-format(1) (not from git's code):
//
//   1. No slash-separated component begins with '.' or ends with ".lock".
//   2. At least two components (one-level names only where allowed).
//   3. No "..".
//   4. No ASCII control character (< 0x20, 0x7f), space, '~', '^', ':'.
//   5. No '?', '*', '['.
//   6. Does not begin or end with '/', no "//" (we never normalize).
//   7. Does not end with '.'.
//   8. No "@{".
//   9. Is not the single character "@".
//  10. No '\'.
//
// Larix adds: 11. at most kMaxRefNameBytes bytes, and not empty.  Bytes
// >= 0x80 are allowed, as in git (UTF-8 names work; they are not checked
// for well-formedness).
//
// Invariants callers may rely on:
//   1. A valid name never contains the bytes 0x00 or 0x01, so the records
//      layer can use 0x00 as a terminator after a name and name + 0x01 as
//      the key just past every key that begins with name + 0x00.
//   2. ValidateRefName(BranchRef(s)) is OK for every s that passes
//      ValidateShortName (likewise TagRef, AliasRef).
//   3. Every function here is pure: no I/O, thread-safe.

#ifndef LARIX_REFS_REF_NAME_H_
#define LARIX_REFS_REF_NAME_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "larix/status.h"

namespace larix {

inline constexpr std::string_view kHeadRef = "HEAD";
inline constexpr std::string_view kRefsPrefix = "refs/";
inline constexpr std::string_view kBranchPrefix = "refs/heads/";
inline constexpr std::string_view kTagPrefix = "refs/tags/";
inline constexpr std::string_view kAliasPrefix = "refs/aliases/";
inline constexpr size_t kMaxRefNameBytes = 1024;

// Git's check-ref-format rules 1-10 (plus 11), nothing Larix-specific:
// `allow_onelevel` is git's --allow-onelevel.  OK or InvalidArgument
// "invalid ref name "<name>": <the rule it breaks>".
Status CheckRefFormat(std::string_view name, bool allow_onelevel);

// The names a RefDb accepts: CheckRefFormat(name, false) for names under
// "refs/", or a root ref ([A-Z_-]+ with at least one letter, e.g. HEAD).
// OK or InvalidArgument naming the name and the rule.
Status ValidateRefName(std::string_view name);

// The part a user types after `refs/heads/` etc.: must make a valid full
// name, must not begin with '-' (it would read as an option) and must not
// be "HEAD" (it would shadow the root ref).  OK or InvalidArgument.
Status ValidateShortName(std::string_view short_name);

// "dev" -> "refs/heads/dev", "v1" -> "refs/tags/v1",
// "production" -> "refs/aliases/production".  No validation: pass the
// result (or the short name) to a validator before trusting it.
std::string BranchRef(std::string_view short_name);
std::string TagRef(std::string_view short_name);
std::string AliasRef(std::string_view short_name);

bool IsBranchRef(std::string_view name);
bool IsTagRef(std::string_view name);
bool IsAliasRef(std::string_view name);

// Display form: strips "refs/heads/", "refs/tags/" or "refs/aliases/"; any
// other name (HEAD, refs/notes/x) is returned as is.
// Does not check for ambiguity; see ShortenRefName.
std::string_view ShortRefName(std::string_view name);

// The order in which a short name is expanded (like git's "DWIM" rules,
// but branches before tags: Larix users mostly name branches):
//   <s>, refs/<s>, refs/heads/<s>, refs/tags/<s>, refs/aliases/<s>
// `exists` reports whether a full name is a ref.  Returns the first
// candidate that is a valid name and exists; NotFound naming `short_name`
// if none does; InvalidArgument if no candidate is even a valid name.
Result<std::string> ExpandRefName(
    std::string_view short_name,
    const std::function<bool(std::string_view)>& exists);

// The shortest form of the full name `name` that ExpandRefName turns back
// into `name` given the same `exists` (git's shorten_unambiguous_ref):
// "refs/tags/v1" -> "v1", but "tags/v1" when refs/heads/v1 also exists
// (a branch would win the expansion of "v1").  Falls back to `name`.
std::string ShortenRefName(std::string_view name,
                           const std::function<bool(std::string_view)>& exists);

// `name` in double quotes with bytes < 0x20, 0x7f and '"' '\' escaped, for
// error messages (never prints raw control characters).
std::string QuoteRefName(std::string_view name);

}  // namespace larix

#endif  // LARIX_REFS_REF_NAME_H_
