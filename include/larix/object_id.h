// ObjectId: the name of an immutable object in a Larix store.
//
// An id is the 32-byte BLAKE2b-256 digest (libsodium crypto_generichash) of
// the object's canonical encoding (docs/format.md).  It is shown as 64
// lowercase hex digits.  The all-zero id is "null": no object, used for
// "ref must not exist" and for absent tree children; no real object hashes
// to it.
//
// Thread-safety: a value type.

#ifndef LARIX_OBJECT_ID_H_
#define LARIX_OBJECT_ID_H_

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "larix/status.h"

namespace larix {

class ObjectId {
 public:
  static constexpr size_t kSize = 32;
  static constexpr size_t kHexSize = 2 * kSize;

  ObjectId() { bytes_.fill(0); }  // null

  // Parses exactly 64 hex digits (either case).  InvalidArgument otherwise.
  static Result<ObjectId> FromHex(std::string_view hex);

  // Takes 32 raw bytes.  InvalidArgument if the size is wrong.
  static Result<ObjectId> FromBytes(std::string_view raw);

  // Unchecked: `raw` must point at kSize bytes.
  static ObjectId FromRaw(const void* raw) {
    ObjectId id;
    std::memcpy(id.bytes_.data(), raw, kSize);
    return id;
  }

  // The unkeyed BLAKE2b-256 digest of `data`.  (Keyed ids for encrypted
  // stores come from the Odb's hasher, not from here.)
  static ObjectId Hash(std::string_view data);
  // The unkeyed digest of head followed by body, without joining them.
  static ObjectId Hash(std::string_view head, std::string_view body);

  bool IsNull() const {
    uint64_t w[4];
    std::memcpy(w, bytes_.data(), kSize);
    return (w[0] | w[1] | w[2] | w[3]) == 0;
  }
  std::string ToHex() const;
  // The first `n` hex digits (n <= 64), for messages and logs.
  std::string ShortHex(size_t n = 12) const { return ToHex().substr(0, n); }

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }
  std::string_view AsBytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), kSize};
  }

  auto operator<=>(const ObjectId&) const = default;
  // Word at a time: the defaulted form called memcmp, which showed in
  // profiles of the page tree and the caches.
  bool operator==(const ObjectId& other) const {
    uint64_t a[4], b[4];
    std::memcpy(a, bytes_.data(), kSize);
    std::memcpy(b, other.bytes_.data(), kSize);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) ==
           0;
  }

 private:
  std::array<uint8_t, kSize> bytes_;
};

// True if `s` is 4..64 hex digits: a prefix an id can be resolved from.
bool IsHexPrefix(std::string_view s);

struct ObjectIdHash {
  size_t operator()(const ObjectId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof(h));  // ids are uniformly random
    return h;
  }
};

}  // namespace larix

template <>
struct std::hash<larix::ObjectId> : larix::ObjectIdHash {};

#endif  // LARIX_OBJECT_ID_H_
