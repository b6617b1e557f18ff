// IdFilter: an in-memory Bloom filter of object ids, for the question "is
// this id perhaps stored?" when the answer is almost always no.  A commit's
// new pages and tree nodes are new objects; without the filter, learning
// that costs an index read each (docs/decisions/0008-id-filter.md).
//
// No false negatives: an id that was added is always reported.  False
// positives (under 1% at the designed load, more past it) only cost the
// index read the filter would have saved.  Ids are removed never: a
// deleted id stays a false positive until the filter is rebuilt.
//
// Blocked: all of an id's four bits are in one 64-byte block, so a query
// touches one cache line.  Ids are BLAKE2b digests, uniformly distributed,
// so their own bytes serve as the hash: bytes 0..7 choose the block, four
// 9-bit fields of bytes 8..15 the bits (3 bits the word, 6 the bit).
//
// Thread-safety: none; the pack backend uses it under its write mutex.

#ifndef LARIX_OBJECTS_ID_FILTER_H_
#define LARIX_OBJECTS_ID_FILTER_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "larix/object_id.h"

namespace larix {

class IdFilter {
 public:
  // Sized for twice `expected_ids`, at least kMinIds, at 16 bits an id.
  explicit IdFilter(uint64_t expected_ids) {
    capacity_ = std::max<uint64_t>(2 * expected_ids, kMinIds);
    const uint64_t blocks = std::bit_ceil(capacity_ * kBitsPerId / 512);
    words_.assign(blocks * kBlockWords, 0);
    mask_ = blocks - 1;
  }

  void Add(const ObjectId& id) {
    uint64_t* block;
    uint64_t b;
    Locate(id, &block, &b);
    for (int k = 0; k < kBits; k++, b >>= 9) {
      block[b & 7] |= uint64_t{1} << ((b >> 3) & 63);
    }
    added_++;
  }

  bool MayContain(const ObjectId& id) const {
    uint64_t* block;
    uint64_t b;
    Locate(id, &block, &b);
    for (int k = 0; k < kBits; k++, b >>= 9) {
      if (!((block[b & 7] >> ((b >> 3) & 63)) & 1)) return false;
    }
    return true;
  }

  // More ids were added than the filter was sized for: it still answers
  // correctly, but with more false positives.  Time to build a larger one.
  bool Overfull() const { return added_ > capacity_; }
  uint64_t added() const { return added_; }
  size_t bytes() const { return words_.size() * sizeof(uint64_t); }

  static constexpr uint64_t kMinIds = 64 << 10;
  static constexpr uint64_t kBitsPerId = 16;

 private:
  static constexpr int kBits = 4;
  static constexpr uint64_t kBlockWords = 8;

  void Locate(const ObjectId& id, uint64_t** block, uint64_t* bits) const {
    uint64_t w;
    memcpy(&w, id.data(), 8);
    memcpy(bits, id.data() + 8, 8);
    *block = const_cast<uint64_t*>(words_.data()) + (w & mask_) * kBlockWords;
  }

  std::vector<uint64_t> words_;
  uint64_t mask_ = 0;
  uint64_t capacity_ = 0;
  uint64_t added_ = 0;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_ID_FILTER_H_
