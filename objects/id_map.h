// IdMap: a hash map from ObjectId to V for the hot paths that only add,
// update, look up and clear (a pack's index overlay, a batch's "seen"
// set).  Entries sit in one vector in the order they were first added;
// an open-addressing table of (32-bit hash, index) slots (IdSlots) finds
// them.  A lookup reads one slot and then the entry it names, where
// std::unordered_map read a bucket, the node before the wanted one and the
// node; clearing or destroying frees two arrays instead of every node.
// There is no erase: a caller records a removal in the value (the overlay
// keeps std::nullopt for a deleted object).

#ifndef LARIX_OBJECTS_ID_MAP_H_
#define LARIX_OBJECTS_ID_MAP_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "larix/object_id.h"

namespace larix {

// 32 bits of an id, mixed from all of it.  Real ids are uniformly random,
// but a table must not degrade on ids that are not (tests make some), and
// the LRU cache's shards already fix the first byte's low bits.
inline uint32_t MixedIdHash(const ObjectId& id) {
  uint64_t w[4];
  static_assert(sizeof(w) == ObjectId::kSize);
  std::memcpy(w, id.data(), sizeof(w));
  const uint64_t x =
      (w[0] ^ std::rotl(w[1], 21) ^ std::rotl(w[2], 42) ^ w[3]) *
      0x9E3779B97F4A7C15ull;
  return static_cast<uint32_t>(x >> 32);
}

// The open-addressing table under IdMap and LruCache: slots of (32-bit
// hash, entry index) in a power-of-two array kept at most half full,
// linear probing, deletion by backward shift (no tombstones).  The caller
// keeps the entries and says, for a slot whose hash matches, whether its
// entry is the one wanted; growing needs only the stored hashes.
class IdSlots {
 public:
  static constexpr uint32_t kNil = ~uint32_t{0};

  // The slot of the entry with `hash` for which matches(index) is true,
  // or kNil.
  template <typename Matches>
  uint32_t Find(uint32_t hash, Matches&& matches) const {
    if (slots_.empty()) return kNil;
    const uint32_t mask = Mask();
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.index == kNil) return kNil;
      if (slot.hash == hash && matches(slot.index)) return i;
    }
  }
  uint32_t IndexAt(uint32_t slot) const { return slots_[slot].index; }

  // Adds an entry not present yet.
  void Insert(uint32_t hash, uint32_t index) {
    if ((used_ + 1) * 2 > slots_.size()) {
      Rehash(std::max<size_t>(16, slots_.size() * 2));
    }
    Place(hash, index);
    used_++;
  }

  // Empties `slot` and shifts later slots of its run back, so that every
  // entry stays reachable from its home.
  void Erase(uint32_t slot) {
    const uint32_t mask = Mask();
    uint32_t i = slot;
    for (uint32_t j = i;;) {
      j = (j + 1) & mask;
      if (slots_[j].index == kNil) break;
      const uint32_t home = slots_[j].hash & mask;
      // Slot j may move to i only if its home is not in (i, j].
      const bool stays = i <= j ? (i < home && home <= j)
                                : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].index = kNil;
    used_--;
  }

  // Room for `n` entries without growing.
  void Reserve(size_t n) {
    size_t want = 16;
    while (want < n * 2) want *= 2;
    if (want > slots_.size()) Rehash(want);
  }
  void Clear() {
    slots_.assign(slots_.size(), Slot{0, kNil});
    used_ = 0;
  }
  void swap(IdSlots& other) noexcept {
    slots_.swap(other.slots_);
    std::swap(used_, other.used_);
  }

 private:
  struct Slot {
    uint32_t hash;   // its low bits are the home position
    uint32_t index;  // kNil: empty
  };

  uint32_t Mask() const { return static_cast<uint32_t>(slots_.size() - 1); }
  void Place(uint32_t hash, uint32_t index) {
    const uint32_t mask = Mask();
    uint32_t i = hash & mask;
    while (slots_[i].index != kNil) i = (i + 1) & mask;
    slots_[i] = Slot{hash, index};
  }
  void Rehash(size_t n) {
    std::vector<Slot> old(n, Slot{0, kNil});
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (slot.index != kNil) Place(slot.hash, slot.index);
    }
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;
};

template <typename V>
class IdMap {
 public:
  using value_type = std::pair<ObjectId, V>;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  IdMap() = default;
  IdMap(IdMap&& other) noexcept { swap(other); }
  IdMap& operator=(IdMap&& other) noexcept {
    IdMap(std::move(other)).swap(*this);
    return *this;
  }
  IdMap(const IdMap&) = default;
  IdMap& operator=(const IdMap&) = default;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }

  // The value of `id`, or null.  Valid until the next insertion.
  const V* Find(const ObjectId& id) const {
    const uint32_t slot = SlotOf(id, MixedIdHash(id));
    return slot == IdSlots::kNil ? nullptr
                                 : &entries_[slots_.IndexAt(slot)].second;
  }
  V* Find(const ObjectId& id) {
    return const_cast<V*>(std::as_const(*this).Find(id));
  }
  bool Contains(const ObjectId& id) const { return Find(id) != nullptr; }

  // Adds (id, value) unless `id` is present.  Returns the value stored for
  // `id` and whether it was added.
  std::pair<V*, bool> TryEmplace(const ObjectId& id, V value) {
    const uint32_t hash = MixedIdHash(id);
    if (const uint32_t slot = SlotOf(id, hash); slot != IdSlots::kNil) {
      return {&entries_[slots_.IndexAt(slot)].second, false};
    }
    entries_.emplace_back(id, std::move(value));
    try {
      slots_.Insert(hash, static_cast<uint32_t>(entries_.size() - 1));
    } catch (...) {
      entries_.pop_back();
      throw;
    }
    return {&entries_.back().second, true};
  }
  // Sets the value of `id`, adding it if absent.
  void Assign(const ObjectId& id, V value) {
    auto [stored, added] = TryEmplace(id, value);
    if (!added) *stored = std::move(value);
  }

  // Room for `n` entries without growing the table.
  void reserve(size_t n) {
    entries_.reserve(n);
    slots_.Reserve(n);
  }
  void clear() {
    entries_.clear();
    slots_.Clear();
  }
  void swap(IdMap& other) noexcept {
    entries_.swap(other.entries_);
    slots_.swap(other.slots_);
  }

 private:
  uint32_t SlotOf(const ObjectId& id, uint32_t hash) const {
    return slots_.Find(hash,
                       [&](uint32_t e) { return entries_[e].first == id; });
  }

  std::vector<value_type> entries_;
  IdSlots slots_;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_ID_MAP_H_
