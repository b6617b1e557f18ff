// Ref name rules (refs/ref_name.h): git's check-ref-format examples, the
// Larix additions, and the short-name helpers.

#include "refs/ref_name.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace larix {
namespace {

struct FormatCase {
  std::string name;
  bool allow_onelevel;
  // Empty: valid.  Otherwise a piece of the expected error message.
  std::string rule;
};

// The examples of git's t/t1402-check-ref-format.sh (those that do not need
// --normalize or --refspec-pattern), then one case per documented rule.
const FormatCase kFormatCases[] = {
    // git's examples.
    {"heads/foo", false, ""},
    {"foo", false, "only one component"},
    {"foo", true, ""},
    {"foo/bar/baz", false, ""},
    {"refs///heads/foo", false, "\"//\""},
    {"heads/foo/", false, "ends with '/'"},
    {"/heads/foo", false, "begins with '/'"},
    {"./foo", false, "begins with '.'"},
    {".refs/foo", false, "begins with '.'"},
    {"heads/foo..bar", false, "\"..\""},
    {"heads/foo?bar", false, "'?'"},
    {"foo./bar", false, ""},
    {"heads/foo.lock", false, "ends with \".lock\""},
    {"heads///foo", false, "\"//\""},
    {"heads/foo@bar", false, ""},
    {"heads/v@{ation", false, "\"@{\""},
    {"heads/foo\\bar", false, "'\\'"},
    {"heads/foo\t", false, "control character 0x09"},
    {"heads/foo\177", false, "control character 0x7f"},
    {"heads/fu\303\237", false, ""},
    {"@", false, "single character \"@\""},
    {"@", true, "single character \"@\""},
    // One case per rule.
    {"", true, "is empty"},
    {"refs/heads/.hidden", false, "component \".hidden\" begins with '.'"},
    {"refs/heads/x.lock/y", false, "component \"x.lock\" ends with \".lock\""},
    {"refs/heads/a.lock.b", false, ""},
    {"refs/heads/a..", false, "ends with '.'"},
    {"refs/heads/a.", false, "ends with '.'"},
    {"refs/heads/a b", false, "space"},
    {"refs/heads/a~1", false, "'~'"},
    {"refs/heads/a^", false, "'^'"},
    {"refs/heads/a:b", false, "':'"},
    {"refs/heads/a*", false, "'*'"},
    {"refs/heads/a[0]", false, "'['"},
    {std::string("refs/heads/a\0b", 14), false, "control character 0x00"},
    {"refs/heads/\x01", false, "control character 0x01"},
    {"refs/heads/@", false, ""},
    {"refs/heads/a@", false, ""},
    {"refs/heads/{x}", false, ""},
    {"refs/heads/feature/JIRA-12_fix", false, ""},
    {"refs/heads/" + std::string(2000, 'x'), false, "longer than 1024"},
};

TEST(RefNameTest, CheckRefFormatTable) {
  for (const FormatCase& c : kFormatCases) {
    Status s = CheckRefFormat(c.name, c.allow_onelevel);
    SCOPED_TRACE(QuoteRefName(c.name) +
                 (c.allow_onelevel ? " (onelevel)" : ""));
    if (c.rule.empty()) {
      EXPECT_TRUE(s.ok()) << s.ToString();
    } else {
      ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_NE(s.message().find(c.rule), std::string::npos) << s.ToString();
      // The message names the name (quoted, control characters escaped).
      EXPECT_NE(s.message().find(QuoteRefName(c.name).substr(0, 20)),
                std::string::npos)
          << s.ToString();
    }
  }
}

TEST(RefNameTest, ValidateRefNameTable) {
  const std::set<std::string> valid = {
      "HEAD",           "ORIG_HEAD",           "MERGE-HEAD",
      "refs/heads/main", "refs/tags/v1.0",     "refs/aliases/production",
      "refs/notes/x",   "refs/heads/a/b/c"};
  for (const std::string& name : valid) {
    EXPECT_TRUE(ValidateRefName(name).ok())
        << name << ": " << ValidateRefName(name).ToString();
  }
  const std::pair<std::string, std::string> invalid[] = {
      {"head", "not a root ref"},
      {"main", "not a root ref"},
      {"heads/main", "does not begin with \"refs/\""},
      {"Head", "not a root ref"},
      {"_", "not a root ref"},
      {"HEAD/x", "does not begin with \"refs/\""},
      {"refs", "not a root ref"},
      {"refs/", "ends with '/'"},
      {"refs/heads/a..b", "\"..\""},
      {"refs/heads/x.lock", "\".lock\""},
      {"HEAD.lock", "\".lock\""},
      {"@", "\"@\""},
      {"", "is empty"},
  };
  for (const auto& [name, rule] : invalid) {
    Status s = ValidateRefName(name);
    ASSERT_TRUE(s.IsInvalidArgument()) << name << ": " << s.ToString();
    EXPECT_NE(s.message().find(rule), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("\"" + name + "\""), std::string::npos)
        << s.ToString();
  }
}

TEST(RefNameTest, ValidateShortName) {
  EXPECT_TRUE(ValidateShortName("dev").ok());
  EXPECT_TRUE(ValidateShortName("feature/login").ok());
  EXPECT_TRUE(ValidateShortName("v1.0").ok());
  EXPECT_TRUE(ValidateShortName("-dev").IsInvalidArgument());
  EXPECT_TRUE(ValidateShortName("HEAD").IsInvalidArgument());
  EXPECT_TRUE(ValidateShortName("").IsInvalidArgument());
  EXPECT_TRUE(ValidateShortName("a..b").IsInvalidArgument());
  EXPECT_TRUE(ValidateShortName("dev/").IsInvalidArgument());
  Status s = ValidateShortName("we ird");
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("refs/heads/we ird"), std::string::npos)
      << s.ToString();
}

TEST(RefNameTest, Helpers) {
  EXPECT_EQ(BranchRef("dev"), "refs/heads/dev");
  EXPECT_EQ(TagRef("v1"), "refs/tags/v1");
  EXPECT_EQ(AliasRef("production"), "refs/aliases/production");
  EXPECT_TRUE(IsBranchRef("refs/heads/dev"));
  EXPECT_FALSE(IsBranchRef("refs/heads/"));
  EXPECT_FALSE(IsBranchRef("refs/tags/dev"));
  EXPECT_TRUE(IsTagRef("refs/tags/v1"));
  EXPECT_TRUE(IsAliasRef("refs/aliases/production"));
  EXPECT_FALSE(IsAliasRef("HEAD"));

  EXPECT_EQ(ShortRefName("refs/heads/dev"), "dev");
  EXPECT_EQ(ShortRefName("refs/heads/feature/x"), "feature/x");
  EXPECT_EQ(ShortRefName("refs/tags/v1"), "v1");
  EXPECT_EQ(ShortRefName("refs/aliases/production"), "production");
  EXPECT_EQ(ShortRefName("HEAD"), "HEAD");
  EXPECT_EQ(ShortRefName("refs/notes/x"), "refs/notes/x");
  EXPECT_EQ(ShortRefName("refs/heads/"), "refs/heads/");

  EXPECT_EQ(QuoteRefName("a\tb\"c\\"), "\"a\\x09b\\\"c\\\\\"");
}

TEST(RefNameTest, ExpandAndShortenAgree) {
  std::set<std::string> refs = {"HEAD", "refs/heads/main", "refs/heads/v1",
                                "refs/tags/v1", "refs/tags/only-tag",
                                "refs/aliases/production"};
  auto exists = [&](std::string_view n) {
    return refs.count(std::string(n)) > 0;
  };

  EXPECT_EQ(*ExpandRefName("main", exists), "refs/heads/main");
  EXPECT_EQ(*ExpandRefName("v1", exists), "refs/heads/v1");  // branch first
  EXPECT_EQ(*ExpandRefName("tags/v1", exists), "refs/tags/v1");
  EXPECT_EQ(*ExpandRefName("only-tag", exists), "refs/tags/only-tag");
  EXPECT_EQ(*ExpandRefName("production", exists), "refs/aliases/production");
  EXPECT_EQ(*ExpandRefName("HEAD", exists), "HEAD");
  EXPECT_EQ(*ExpandRefName("refs/heads/main", exists), "refs/heads/main");
  EXPECT_TRUE(ExpandRefName("nope", exists).status().IsNotFound());
  EXPECT_TRUE(ExpandRefName("a..b", exists).status().IsInvalidArgument());

  EXPECT_EQ(ShortenRefName("refs/heads/main", exists), "main");
  EXPECT_EQ(ShortenRefName("refs/heads/v1", exists), "v1");
  EXPECT_EQ(ShortenRefName("refs/tags/v1", exists), "tags/v1");
  EXPECT_EQ(ShortenRefName("refs/tags/only-tag", exists), "only-tag");
  EXPECT_EQ(ShortenRefName("HEAD", exists), "HEAD");
  for (const std::string& full : refs) {
    EXPECT_EQ(*ExpandRefName(ShortenRefName(full, exists), exists), full);
  }
}

}  // namespace
}  // namespace larix
