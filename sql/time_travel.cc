#include "sql/time_travel.h"

#include <cctype>
#include <cstdio>
#include <ctime>

#include "objects/commit_graph.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix {
namespace {


// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ReadInt(std::string_view* s, int digits, int* out) {
  if (s->size() < static_cast<size_t>(digits)) return false;
  int v = 0;
  for (int i = 0; i < digits; i++) {
    if (!isdigit(static_cast<unsigned char>((*s)[i]))) return false;
    v = v * 10 + ((*s)[i] - '0');
  }
  s->remove_prefix(digits);
  *out = v;
  return true;
}

bool Eat(std::string_view* s, char c) {
  if (s->empty() || (*s)[0] != c) return false;
  s->remove_prefix(1);
  return true;
}

}  // namespace

Result<int64_t> ParseTimestamp(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  auto bad = [&] {
    return Status::InvalidArgument(
        "cannot read '" + std::string(text) +
        "' as a timestamp (expected 'YYYY-MM-DD HH:MM:SS' or ISO-8601)");
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!ReadInt(&s, 4, &year) || !Eat(&s, '-') || !ReadInt(&s, 2, &month) ||
      !Eat(&s, '-') || !ReadInt(&s, 2, &day)) {
    return bad();
  }
  int64_t micros = 0;
  if (!s.empty() && (s[0] == ' ' || s[0] == 'T' || s[0] == 't')) {
    s.remove_prefix(1);
    if (!ReadInt(&s, 2, &hour) || !Eat(&s, ':') || !ReadInt(&s, 2, &minute)) {
      return bad();
    }
    if (Eat(&s, ':')) {
      if (!ReadInt(&s, 2, &second)) return bad();
      if (Eat(&s, '.') || Eat(&s, ',')) {
        int64_t scale = 100000;
        bool any = false;
        while (!s.empty() && isdigit(static_cast<unsigned char>(s[0]))) {
          micros += (s[0] - '0') * scale;
          scale /= 10;
          s.remove_prefix(1);
          any = true;
        }
        if (!any) return bad();
      }
    }
  }
  int64_t offset_s = 0;
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  if (Eat(&s, 'Z') || Eat(&s, 'z')) {
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    int sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om = 0;
    if (!ReadInt(&s, 2, &oh)) return bad();
    Eat(&s, ':');
    if (!s.empty() && !ReadInt(&s, 2, &om)) return bad();
    offset_s = sign * (oh * 3600 + om * 60);
  } else if (s.size() >= 3 && (s == "UTC" || s == "utc")) {
    s = {};
  }
  if (!s.empty() || month < 1 || month > 12 || day < 1 || day > 31 ||
      hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  int64_t days = DaysFromCivil(year, month, day);
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1000000 + micros;
}

std::string FormatTimestamp(int64_t time_us) {
  time_t secs = static_cast<time_t>(time_us / 1000000);
  int64_t micros = time_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06lld",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
  return buf;
}

Result<AsOfPoint> ParseAsOfPoint(std::string_view kind) {
  std::string k(kind);
  for (char& c : k) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (k == "now") return AsOfPoint::kNow;
  if (k == "timestamp") return AsOfPoint::kTimestamp;
  if (k == "transaction" || k == "scn") return AsOfPoint::kTransaction;
  if (k == "commit") return AsOfPoint::kCommit;
  if (k == "branch") return AsOfPoint::kBranch;
  if (k == "tag") return AsOfPoint::kTag;
  return Status::InvalidArgument("unknown AS OF kind '" + std::string(kind) +
                                 "'");
}

namespace {

// The last commit at or before time_us on the first-parent history of
// `from`.  NotFound if every commit there is newer.
Result<ObjectId> LastCommitAtOrBefore(Store* store, const ObjectId& from,
                                      int64_t time_us) {
  ObjectId found;
  LARIX_RETURN_IF_ERROR(store->commits()->FirstParentLog(
      from, 0, [&](const ObjectId& id, const Commit& c) {
        if (c.time_us <= time_us) {
          found = id;
          return false;
        }
        return true;
      }));
  if (found.IsNull()) return Status::NotFound("no commit that old");
  return found;
}

Result<ObjectId> ResolveTimestamp(Store* store, const std::string& ref,
                                  const std::string& value) {
  LARIX_ASSIGN_OR_RETURN(int64_t t, ParseTimestamp(value));
  int64_t horizon = store->NowMicros() - store->history_retention_us();
  if (t < horizon) {
    return Status::InvalidArgument(
        "'" + value + "' is before the retained history (history is kept "
        "from " + FormatTimestamp(horizon) +
        " UTC; SELECT larix_set_retention(seconds) keeps more)");
  }
  std::string name = ShortRefName(ref).empty() ? ref
                                               : std::string(ShortRefName(ref));
  Result<ObjectId> at = store->refs()->ValueAt(ref, t);
  if (at.ok()) return at;
  if (!at.status().IsNotFound()) return at.status();
  // Before the branch existed (or after it was dropped): the history it
  // was created from.
  std::vector<ReflogEntry> log;
  LARIX_RETURN_IF_ERROR(store->refs()->ReadReflog(ref, &log));
  for (const ReflogEntry& e : log) {
    if (e.new_id.IsNull()) continue;
    if (e.time_us <= t) break;  // it existed then: a deletion answered
    Result<ObjectId> c = LastCommitAtOrBefore(store, e.new_id, t);
    if (c.ok()) return c;
    break;
  }
  return Status::NotFound("branch '" + name + "' has no history at " +
                          value);
}

Result<ObjectId> ResolveTransaction(Store* store, const std::string& ref,
                                    const std::string& value) {
  char* end = nullptr;
  unsigned long long n = strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0') {
    return Status::InvalidArgument("transaction number must be a whole "
                                   "number, got '" + value + "'");
  }
  uint64_t newest_txn = store->last_txn();
  if (n > newest_txn) {
    return Status::NotFound("transaction " + value +
                            " has not happened yet (the newest is " +
                            std::to_string(newest_txn) + ")");
  }
  LARIX_ASSIGN_OR_RETURN(ObjectId head, store->refs()->Resolve(ref));
  ObjectId found;
  uint64_t newest = 0;
  LARIX_RETURN_IF_ERROR(store->commits()->FirstParentLog(
      head, 0, [&](const ObjectId& id, const Commit& c) {
        newest = std::max(newest, c.txn);
        if (c.txn <= n) {
          found = id;
          return false;
        }
        return true;
      }));
  if (found.IsNull()) {
    return Status::NotFound("no transaction " + value + " or older in the "
                            "history of " + std::string(ShortRefName(ref)));
  }
  return found;
}

}  // namespace

Result<ObjectId> ResolveAsOf(Store* store, const std::string& branch_ref,
                             AsOfPoint kind, const std::string& value) {
  switch (kind) {
    case AsOfPoint::kNow: {
      Result<ObjectId> head = store->refs()->Resolve(branch_ref);
      if (head.status().IsNotFound()) {
        return Status::NotFound("branch '" +
                                std::string(ShortRefName(branch_ref)) +
                                "' does not exist");
      }
      return head;
    }
    case AsOfPoint::kTimestamp:
      return ResolveTimestamp(store, branch_ref, value);
    case AsOfPoint::kTransaction:
      return ResolveTransaction(store, branch_ref, value);
    case AsOfPoint::kCommit:
      return store->ResolveRevision(value);
    case AsOfPoint::kBranch: {
      Result<ObjectId> head = store->refs()->Resolve(BranchRef(value));
      if (!head.ok()) head = store->refs()->Resolve(AliasRef(value));
      if (!head.ok()) {
        return Status::NotFound("branch '" + value + "' does not exist");
      }
      return head;
    }
    case AsOfPoint::kTag: {
      if (!store->refs()->Read(TagRef(value)).ok()) {
        return Status::NotFound("tag '" + value + "' does not exist");
      }
      return store->ResolveRevision(TagRef(value));
    }
  }
  return Status::InvalidArgument("bad AS OF kind");
}

}  // namespace larix
