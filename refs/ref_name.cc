// Ref name rules; see ref_name.h for the list and the invariants.
//
// Design: CheckRefFormat makes one pass over the bytes for the character
// rules (3-8, 10) and one over the components (1, 2), reporting the first
// rule broken in a fixed order, so a given bad name always produces the same
// message.  The whole-name rules (empty, length, "@", leading and trailing
// '/' and '.') come first because they explain the most.

#include "refs/ref_name.h"

#include <array>
#include <cstdio>

namespace larix {
namespace {

Status Invalid(std::string_view name, std::string_view rule) {
  std::string msg = "invalid ref name ";
  msg += QuoteRefName(name);
  msg += ": ";
  msg += rule;
  return Status::InvalidArgument(msg);
}

bool IsRootRefSyntax(std::string_view name) {
  bool has_letter = false;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      has_letter = true;
    } else if (c != '_' && c != '-') {
      return false;
    }
  }
  return has_letter;
}

// Candidate patterns for ExpandRefName / ShortenRefName, in priority order.
// Each is a prefix put in front of the short name; index 0 is the name
// itself (a root ref such as HEAD).
constexpr std::array<std::string_view, 5> kExpandPrefixes = {
    "", kRefsPrefix, kBranchPrefix, kTagPrefix, kAliasPrefix};

std::string WithPrefix(std::string_view prefix, std::string_view s) {
  std::string out(prefix);
  out += s;
  return out;
}

}  // namespace

std::string QuoteRefName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Status CheckRefFormat(std::string_view name, bool allow_onelevel) {
  // Whole-name rules.
  if (name.empty()) return Invalid(name, "is empty");
  if (name.size() > kMaxRefNameBytes) {
    return Invalid(name, "is longer than " + std::to_string(kMaxRefNameBytes) +
                             " bytes");
  }
  if (name == "@") return Invalid(name, "is the single character \"@\"");
  if (name.front() == '/') return Invalid(name, "begins with '/'");
  if (name.back() == '/') return Invalid(name, "ends with '/'");
  if (name.back() == '.') return Invalid(name, "ends with '.'");

  // Character rules.
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    const auto u = static_cast<unsigned char>(c);
    const char next = i + 1 < name.size() ? name[i + 1] : '\0';
    if (u < 0x20 || u == 0x7f) {
      char buf[48];
      std::snprintf(buf, sizeof(buf), "contains control character 0x%02x", u);
      return Invalid(name, buf);
    }
    switch (c) {
      case ' ':
        return Invalid(name, "contains a space");
      case '~':
      case '^':
      case ':':
      case '?':
      case '*':
      case '[':
      case '\\':
        return Invalid(name, std::string("contains '") + c + "'");
      case '.':
        if (next == '.') return Invalid(name, "contains \"..\"");
        break;
      case '@':
        if (next == '{') return Invalid(name, "contains \"@{\"");
        break;
      case '/':
        if (next == '/') return Invalid(name, "contains \"//\"");
        break;
      default:
        break;
    }
  }

  // Component rules.  Components are non-empty here: no leading, trailing
  // or doubled '/'.
  constexpr std::string_view kLock = ".lock";
  size_t components = 0;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view comp = name.substr(start, end - start);
    components++;
    if (comp.front() == '.') {
      return Invalid(name, "component " + QuoteRefName(comp) +
                               " begins with '.'");
    }
    if (comp.size() >= kLock.size() &&
        comp.substr(comp.size() - kLock.size()) == kLock) {
      return Invalid(name, "component " + QuoteRefName(comp) +
                               " ends with \".lock\"");
    }
    start = end + 1;
  }
  if (components < 2 && !allow_onelevel) {
    return Invalid(name, "has only one component (expected e.g. refs/heads/" +
                             std::string(name) + ")");
  }
  return Status::OK();
}

Status ValidateRefName(std::string_view name) {
  if (name.substr(0, kRefsPrefix.size()) == kRefsPrefix) {
    return CheckRefFormat(name, /*allow_onelevel=*/false);
  }
  if (name.find('/') == std::string_view::npos && IsRootRefSyntax(name)) {
    return CheckRefFormat(name, /*allow_onelevel=*/true);
  }
  // Report a check-ref-format violation first if there is one: it is the
  // more specific complaint.
  LARIX_RETURN_IF_ERROR(CheckRefFormat(name, /*allow_onelevel=*/true));
  return Invalid(name,
                 "does not begin with \"refs/\" and is not a root ref "
                 "(upper-case letters, '_' and '-' only, like HEAD)");
}

Status ValidateShortName(std::string_view short_name) {
  if (short_name.empty()) return Invalid(short_name, "is empty");
  if (short_name.front() == '-') return Invalid(short_name, "begins with '-'");
  if (short_name == kHeadRef) {
    return Invalid(short_name, "is \"HEAD\", which names the root ref");
  }
  return ValidateRefName(BranchRef(short_name));
}

std::string BranchRef(std::string_view short_name) {
  return WithPrefix(kBranchPrefix, short_name);
}
std::string TagRef(std::string_view short_name) {
  return WithPrefix(kTagPrefix, short_name);
}
std::string AliasRef(std::string_view short_name) {
  return WithPrefix(kAliasPrefix, short_name);
}

bool IsBranchRef(std::string_view name) {
  return name.size() > kBranchPrefix.size() &&
         name.substr(0, kBranchPrefix.size()) == kBranchPrefix;
}
bool IsTagRef(std::string_view name) {
  return name.size() > kTagPrefix.size() &&
         name.substr(0, kTagPrefix.size()) == kTagPrefix;
}
bool IsAliasRef(std::string_view name) {
  return name.size() > kAliasPrefix.size() &&
         name.substr(0, kAliasPrefix.size()) == kAliasPrefix;
}

std::string_view ShortRefName(std::string_view name) {
  for (std::string_view prefix : {kBranchPrefix, kTagPrefix, kAliasPrefix}) {
    if (name.size() > prefix.size() &&
        name.substr(0, prefix.size()) == prefix) {
      return name.substr(prefix.size());
    }
  }
  return name;
}

Result<std::string> ExpandRefName(
    std::string_view short_name,
    const std::function<bool(std::string_view)>& exists) {
  Status first_invalid;
  bool any_valid = false;
  for (std::string_view prefix : kExpandPrefixes) {
    std::string candidate = WithPrefix(prefix, short_name);
    Status s = ValidateRefName(candidate);
    if (!s.ok()) {
      // Remember the complaint about the branch form: it is what the user
      // most likely meant.
      if (prefix == kBranchPrefix) first_invalid = s;
      continue;
    }
    any_valid = true;
    if (exists(candidate)) return candidate;
  }
  if (!any_valid) return first_invalid;
  return Status::NotFound("no ref matches " + QuoteRefName(short_name));
}

// Git's shorten_unambiguous_ref: try the most-stripping pattern first; a
// short form is good if no higher-priority pattern expands it to a ref
// that exists (ExpandRefName would pick that one instead).
std::string ShortenRefName(
    std::string_view name,
    const std::function<bool(std::string_view)>& exists) {
  for (size_t j = kExpandPrefixes.size(); j-- > 1;) {
    std::string_view prefix = kExpandPrefixes[j];
    if (name.size() <= prefix.size() ||
        name.substr(0, prefix.size()) != prefix) {
      continue;
    }
    std::string_view short_name = name.substr(prefix.size());
    bool ambiguous = false;
    for (size_t i = 0; i < j && !ambiguous; i++) {
      std::string candidate = WithPrefix(kExpandPrefixes[i], short_name);
      ambiguous = ValidateRefName(candidate).ok() && exists(candidate);
    }
    if (!ambiguous) return std::string(short_name);
  }
  return std::string(name);
}

}  // namespace larix
