// A byte-bounded, thread-safe LRU cache of immutable values keyed by
// ObjectId.  Objects never change, so a cached value can never be stale;
// the cache only has to bound memory.  Sharded by the id's first byte to
// keep lock contention low under many reader threads.

#ifndef LARIX_OBJECTS_LRU_CACHE_H_
#define LARIX_OBJECTS_LRU_CACHE_H_

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "larix/object_id.h"

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
    Shard& s = shards_[id.data()[0] % kShards];
    std::lock_guard lock(s.mu);
    auto it = s.map.find(id);
    if (it == s.map.end()) return nullptr;
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    if (aux) *aux = it->second->aux;
    return it->second->value;
  }

  // `aux` is a small number kept with the value (the Odb keeps an object's
  // delta depth there).  An id already cached keeps its value and aux.
  void Insert(const ObjectId& id, Value value, size_t charge,
              uint8_t aux = 0) {
    if (shard_capacity_ == 0 || charge > shard_capacity_) return;
    Shard& s = shards_[id.data()[0] % kShards];
    Value released;  // the victim's value, freed after the lock is dropped
    std::lock_guard lock(s.mu);
    if (s.map.count(id)) return;
    if (!s.lru.empty() && s.usage + charge > shard_capacity_) {
      // A full cache: the least recent entry's list and map nodes become
      // the new entry's, which saves four allocations per insert.
      auto victim = std::prev(s.lru.end());
      auto node = s.map.extract(victim->id);
      s.usage -= victim->charge;
      released = std::move(victim->value);
      *victim = Entry{id, std::move(value), charge, aux};
      s.lru.splice(s.lru.begin(), s.lru, victim);
      node.key() = id;
      node.mapped() = s.lru.begin();
      s.map.insert(std::move(node));
    } else {
      s.lru.push_front(Entry{id, std::move(value), charge, aux});
      s.map.emplace(id, s.lru.begin());
    }
    s.usage += charge;
    while (s.usage > shard_capacity_ && s.lru.size() > 1) {
      Entry& victim = s.lru.back();
      s.usage -= victim.charge;
      s.map.erase(victim.id);
      s.lru.pop_back();
    }
  }

  // Makes `id` the next entry to evict, if it is cached.  For values that
  // are probably dead (a page version a commit just replaced): they make
  // room before live ones do, yet a reader that still wants one finds it.
  void Demote(const ObjectId& id) {
    Shard& s = shards_[id.data()[0] % kShards];
    std::lock_guard lock(s.mu);
    auto it = s.map.find(id);
    if (it == s.map.end()) return;
    s.lru.splice(s.lru.end(), s.lru, it->second);
  }

  void Erase(const ObjectId& id) {
    Shard& s = shards_[id.data()[0] % kShards];
    std::lock_guard lock(s.mu);
    auto it = s.map.find(id);
    if (it == s.map.end()) return;
    s.usage -= it->second->charge;
    s.lru.erase(it->second);
    s.map.erase(it);
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
  struct Entry {
    ObjectId id;
    Value value;
    size_t charge;
    uint8_t aux;
  };
  struct Shard {
    std::mutex mu;
    std::list<Entry> lru;  // most recent first
    std::unordered_map<ObjectId, typename std::list<Entry>::iterator,
                       ObjectIdHash>
        map;
    size_t usage = 0;
  };

  size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_LRU_CACHE_H_
