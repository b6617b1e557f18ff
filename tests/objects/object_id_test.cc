#include "larix/object_id.h"

#include <gtest/gtest.h>

#include "objects/object_format.h"

namespace larix {
namespace {

TEST(ObjectIdTest, HashIsBlake2b256OfTheInput) {
  // BLAKE2b-256 of the empty string, from RFC 7693's reference parameters.
  EXPECT_EQ(ObjectId::Hash("").ToHex(),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_NE(ObjectId::Hash("a"), ObjectId::Hash("b"));
}

TEST(ObjectIdTest, HashOfTwoPartsIsTheHashOfTheirConcatenation) {
  std::string body(10000, 'b');
  for (size_t i = 0; i < body.size(); i++) body[i] = static_cast<char>(i * 7);
  for (size_t split : {size_t{0}, size_t{2}, size_t{128}, size_t{129},
                       size_t{4096}, body.size()}) {
    std::string_view whole(body);
    EXPECT_EQ(ObjectId::Hash(whole.substr(0, split), whole.substr(split)),
              ObjectId::Hash(whole))
        << "split at " << split;
  }
}

TEST(ObjectIdTest, HexRoundTrip) {
  ObjectId id = ObjectId::Hash("larix");
  auto parsed = ObjectId::FromHex(id.ToHex());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  std::string upper = id.ToHex();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  ASSERT_TRUE(ObjectId::FromHex(upper).ok());
  EXPECT_EQ(*ObjectId::FromHex(upper), id);
}

TEST(ObjectIdTest, RejectsBadHex) {
  EXPECT_TRUE(ObjectId::FromHex("abc").status().IsInvalidArgument());
  std::string bad(64, 'g');
  EXPECT_TRUE(ObjectId::FromHex(bad).status().IsInvalidArgument());
  EXPECT_TRUE(ObjectId::FromBytes("short").status().IsInvalidArgument());
}

TEST(ObjectIdTest, NullIdAndPrefixes) {
  EXPECT_TRUE(ObjectId().IsNull());
  EXPECT_FALSE(ObjectId::Hash("x").IsNull());
  EXPECT_TRUE(IsHexPrefix("abcd"));
  EXPECT_FALSE(IsHexPrefix("abc"));
  EXPECT_FALSE(IsHexPrefix("abcz"));
}

TEST(ObjectFormatTest, CommitRoundTrip) {
  Commit c;
  c.tree = ObjectId::Hash("tree");
  c.parents = {ObjectId::Hash("p1"), ObjectId::Hash("p2")};
  c.time_us = 1763596800123456;
  c.txn = 987654;
  c.author = "alice";
  c.message = "insert into orders";
  auto decoded = DecodeCommit(EncodeCommit(c));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, c);
}

TEST(ObjectFormatTest, TagRoundTrip) {
  Tag t;
  t.target = ObjectId::Hash("c");
  t.name = "v1";
  t.tagger = "bob";
  t.time_us = 42;
  t.message = "release";
  auto decoded = DecodeTag(EncodeTag(t));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, t);
}

TEST(ObjectFormatTest, RejectsTruncatedAndTrailingBytes) {
  Commit c;
  c.author = "a";
  std::string enc = EncodeCommit(c);
  for (size_t n = 0; n < enc.size(); n++) {
    EXPECT_FALSE(DecodeCommit(enc.substr(0, n)).ok()) << "length " << n;
  }
  EXPECT_TRUE(DecodeCommit(enc + "x").status().IsCorruption());
}

TEST(ObjectFormatTest, NewerVersionIsNotSupported) {
  std::string enc = EncodePage("abc");
  enc[1] = 9;
  EXPECT_TRUE(DecodePage(enc).status().IsNotSupported());
  enc = EncodePage("abc");
  EXPECT_TRUE(DecodeCommit(enc).status().IsCorruption());
}

}  // namespace
}  // namespace larix
