// Byte-level encoding primitives shared by every on-disk format in Larix.
// Fixed-width integers are big-endian, so encoded keys sort numerically
// under bytewise comparison (records keyspace, time index).  Varints are
// LEB128 (7 bits a byte, low group first), at most 10 bytes.

#ifndef LARIX_OBJECTS_CODING_H_
#define LARIX_OBJECTS_CODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace larix::coding {

inline void PutFixed16(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(b, 2);
}

inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; i++) b[i] = static_cast<char>(v >> (24 - 8 * i));
  dst->append(b, 4);
}

inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; i++) b[i] = static_cast<char>(v >> (56 - 8 * i));
  dst->append(b, 8);
}

inline void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

// Varint length followed by the bytes.
inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint(dst, s.size());
  dst->append(s);
}

inline uint16_t DecodeFixed16(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] << 8 | u[1]);
}

inline uint32_t DecodeFixed32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 |
         uint32_t{u[3]};
}

inline uint64_t DecodeFixed64(const char* p) {
  return uint64_t{DecodeFixed32(p)} << 32 | DecodeFixed32(p + 4);
}

// Each Get* consumes from the front of *in and returns false (leaving *in
// unspecified) if the input is too short or malformed.
inline bool GetFixed16(std::string_view* in, uint16_t* v) {
  if (in->size() < 2) return false;
  *v = DecodeFixed16(in->data());
  in->remove_prefix(2);
  return true;
}

inline bool GetFixed32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeFixed32(in->data());
  in->remove_prefix(4);
  return true;
}

inline bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeFixed64(in->data());
  in->remove_prefix(8);
  return true;
}

inline bool GetByte(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

inline bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint64_t byte = static_cast<unsigned char>((*in)[0]);
    in->remove_prefix(1);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

inline bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

inline bool GetBytes(std::string_view* in, size_t n, std::string_view* s) {
  if (in->size() < n) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace larix::coding

#endif  // LARIX_OBJECTS_CODING_H_
