// A byte-bounded, thread-safe LRU cache of immutable values keyed by
// ObjectId.  Objects never change, so a cached value can never be stale;
// the cache only has to bound memory.  Sharded by the id's first byte to
// keep lock contention low under many reader threads.
//
// Each shard is an open-addressing table (IdSlots: linear probing,
// deletion by backward shift) of small slots over a slab of entries that
// form the LRU list by index.  A slot holds 32 bits of the id's hash and
// the entry's index, so a probe reads one slot array line and then only
// the entry it finds; a node-based map (std::unordered_map with a std::list) took a
// dependent cache miss per bucket, chain node and list node, and that was
// most of the cost of a lookup in a cache larger than the CPU's.

#ifndef LARIX_OBJECTS_LRU_CACHE_H_
#define LARIX_OBJECTS_LRU_CACHE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "larix/object_id.h"
#include "objects/id_map.h"

namespace larix {

template <typename V>
class LruCache {
 public:
  using Value = std::shared_ptr<const V>;

  // `capacity_bytes` is split evenly across shards; 0 disables caching.
  explicit LruCache(size_t capacity_bytes)
      : shard_capacity_(capacity_bytes / kShards) {}

  // `aux`, if given, receives the small number stored with the entry.
  Value Lookup(const ObjectId& id, uint8_t* aux = nullptr) {
    Shard& s = ShardOf(id);
    std::lock_guard lock(s.mu);
    const uint32_t slot = s.Find(id, HashOf(id));
    if (slot == kNil) return nullptr;
    const uint32_t e = s.slots.IndexAt(slot);
    s.MoveToFront(e);
    if (aux) *aux = s.entries[e].aux;
    return s.entries[e].value;
  }

  // `aux` is a small number kept with the value (the Odb keeps an object's
  // delta depth there).  An id already cached keeps its value and aux.
  void Insert(const ObjectId& id, Value value, size_t charge,
              uint8_t aux = 0) {
    if (shard_capacity_ == 0 || charge > shard_capacity_) return;
    Shard& s = ShardOf(id);
    const uint32_t hash = HashOf(id);
    Value released;  // the first victim's value, freed after the lock
    std::lock_guard lock(s.mu);
    if (s.Find(id, hash) != kNil) return;
    while (s.tail != kNil && s.usage + charge > shard_capacity_) {
      Entry& victim = s.entries[s.tail];
      if (!released) released = std::move(victim.value);
      s.Remove(s.tail);
    }
    s.Add(id, hash, std::move(value), charge, aux);
  }

  // Makes `id` the next entry to evict, if it is cached.  For values that
  // are probably dead (a page version a commit just replaced): they make
  // room before live ones do, yet a reader that still wants one finds it.
  void Demote(const ObjectId& id) {
    Shard& s = ShardOf(id);
    std::lock_guard lock(s.mu);
    const uint32_t slot = s.Find(id, HashOf(id));
    if (slot == kNil) return;
    const uint32_t e = s.slots.IndexAt(slot);
    if (s.tail == e) return;
    s.Unlink(e);
    s.LinkBack(e);
  }

  void Erase(const ObjectId& id) {
    Shard& s = ShardOf(id);
    std::lock_guard lock(s.mu);
    const uint32_t slot = s.Find(id, HashOf(id));
    if (slot != kNil) s.Remove(s.slots.IndexAt(slot));
  }

  size_t Usage() {
    size_t total = 0;
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      total += s.usage;
    }
    return total;
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr uint32_t kNil = IdSlots::kNil;

  struct Entry {
    ObjectId id;
    Value value;  // null while the entry is free
    size_t charge = 0;
    uint32_t prev = kNil, next = kNil;  // LRU list; `next` chains the free
    uint8_t aux = 0;
  };
  struct Shard {
    std::mutex mu;
    std::vector<Entry> entries;  // the slab
    uint32_t free = kNil;        // free entries, chained by `next`
    uint32_t head = kNil;        // most recent
    uint32_t tail = kNil;        // least recent: the next victim
    IdSlots slots;               // finds entries by id
    size_t usage = 0;

    // The slot holding `id`, or kNil.
    uint32_t Find(const ObjectId& id, uint32_t hash) const {
      return slots.Find(hash,
                        [&](uint32_t e) { return entries[e].id == id; });
    }

    void Add(const ObjectId& id, uint32_t hash, Value value, size_t charge,
             uint8_t aux) {
      uint32_t e;
      if (free != kNil) {
        e = free;
        free = entries[e].next;
      } else {
        e = static_cast<uint32_t>(entries.size());
        entries.emplace_back();
      }
      Entry& entry = entries[e];
      entry.id = id;
      entry.value = std::move(value);
      entry.charge = charge;
      entry.aux = aux;
      try {
        slots.Insert(hash, e);
      } catch (...) {
        entry.value.reset();
        entry.next = free;
        free = e;
        throw;
      }
      LinkFront(e);
      usage += charge;
    }

    // Drops entry `e`: its slot, its place in the list, its value.
    void Remove(uint32_t e) {
      Entry& entry = entries[e];
      slots.Erase(Find(entry.id, HashOf(entry.id)));
      Unlink(e);
      usage -= entry.charge;
      entry.value.reset();
      entry.next = free;
      free = e;
    }

    void Unlink(uint32_t e) {
      Entry& entry = entries[e];
      if (entry.prev != kNil) {
        entries[entry.prev].next = entry.next;
      } else {
        head = entry.next;
      }
      if (entry.next != kNil) {
        entries[entry.next].prev = entry.prev;
      } else {
        tail = entry.prev;
      }
    }
    // Links unlinked entry `e` between `prev` and `next`, neighbours in
    // the list (kNil: the list's end on that side); Unlink's inverse.
    void LinkBetween(uint32_t e, uint32_t prev, uint32_t next) {
      entries[e].prev = prev;
      entries[e].next = next;
      (prev != kNil ? entries[prev].next : head) = e;
      (next != kNil ? entries[next].prev : tail) = e;
    }
    void LinkFront(uint32_t e) { LinkBetween(e, kNil, head); }
    void LinkBack(uint32_t e) { LinkBetween(e, tail, kNil); }
    void MoveToFront(uint32_t e) {
      if (head == e) return;
      Unlink(e);
      LinkFront(e);
    }
  };

  static uint32_t HashOf(const ObjectId& id) { return MixedIdHash(id); }
  Shard& ShardOf(const ObjectId& id) {
    return shards_[id.data()[0] % kShards];
  }

  size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_LRU_CACHE_H_
