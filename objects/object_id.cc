#include "larix/object_id.h"

#include <sodium.h>

namespace larix {
namespace {

// sodium_init() selects libsodium's fastest BLAKE2b compression function
// for this CPU (AVX2 where present); without it every hash runs the portable
// reference code, about 8% slower on 4 KiB pages (measured 3.84 vs 3.55 µs).
// It is idempotent and thread-safe, and this file is linked into every
// program that computes an id.
const bool kSodiumReady = sodium_init() >= 0;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<ObjectId> ObjectId::FromHex(std::string_view hex) {
  if (hex.size() != kHexSize) {
    return Status::InvalidArgument("object id must be 64 hex digits, got " +
                                   std::to_string(hex.size()) + " characters");
  }
  ObjectId id;
  for (size_t i = 0; i < kSize; i++) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("object id has a non-hex character: '" +
                                     std::string(hex) + "'");
    }
    id.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

Result<ObjectId> ObjectId::FromBytes(std::string_view raw) {
  if (raw.size() != kSize) {
    return Status::InvalidArgument("object id must be 32 bytes, got " +
                                   std::to_string(raw.size()));
  }
  return FromRaw(raw.data());
}

ObjectId ObjectId::Hash(std::string_view data) {
  ObjectId id;
  crypto_generichash(id.bytes_.data(), kSize,
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return id;
}

ObjectId ObjectId::Hash(std::string_view head, std::string_view body) {
  ObjectId id;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kSize);
  crypto_generichash_update(
      &state, reinterpret_cast<const unsigned char*>(head.data()), head.size());
  crypto_generichash_update(
      &state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  crypto_generichash_final(&state, id.bytes_.data(), kSize);
  return id;
}

std::string ObjectId::ToHex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(kHexSize, '0');
  for (size_t i = 0; i < kSize; i++) {
    s[2 * i] = kDigits[bytes_[i] >> 4];
    s[2 * i + 1] = kDigits[bytes_[i] & 15];
  }
  return s;
}

bool IsHexPrefix(std::string_view s) {
  if (s.size() < 4 || s.size() > ObjectId::kHexSize) return false;
  for (char c : s)
    if (HexValue(c) < 0) return false;
  return true;
}

}  // namespace larix
