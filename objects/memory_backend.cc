// The in-memory backend: a hash map of objects and an ordered map of
// records under one reader/writer lock.  Apply takes the lock exclusively,
// which makes it atomic for readers; there is nothing to crash.
//
// Record iterators copy the records keyspace when created (a snapshot).
// Stores that keep reflogs in memory are small by nature (tests, :memory:),
// so the copy is an acceptable price for a simple, obviously-correct
// snapshot.

#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "larix/sys/backend.h"

namespace larix {
namespace {

class MemoryRecordIterator : public RecordIterator {
 public:
  explicit MemoryRecordIterator(std::map<std::string, std::string> records)
      : records_(std::move(records)), it_(records_.end()) {}

  void Seek(std::string_view key) override {
    it_ = records_.lower_bound(std::string(key));
  }
  void SeekToFirst() override { it_ = records_.begin(); }
  void SeekToLast() override {
    it_ = records_.empty() ? records_.end() : std::prev(records_.end());
  }
  bool Valid() const override { return it_ != records_.end(); }
  void Next() override { ++it_; }
  void Prev() override {
    if (it_ == records_.begin()) {
      it_ = records_.end();
    } else {
      --it_;
    }
  }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return Status::OK(); }

 private:
  std::map<std::string, std::string> records_;
  std::map<std::string, std::string>::const_iterator it_;
};

class MemoryBackend : public Backend {
 public:
  const char* Name() const override { return "memory"; }

  Status ReadObject(const ObjectId& id, std::string* stored) override {
    std::shared_lock lock(mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      return Status::NotFound("object " + id.ToHex());
    }
    *stored = it->second;
    return Status::OK();
  }

  Status ObjectExists(const ObjectId& id, bool* exists) override {
    std::shared_lock lock(mu_);
    *exists = objects_.count(id) > 0;
    return Status::OK();
  }

  Status FindObjectsByPrefix(std::string_view hex_prefix, size_t limit,
                             std::vector<ObjectId>* out) override {
    std::shared_lock lock(mu_);
    for (const auto& [id, body] : objects_) {
      if (out->size() >= limit) break;
      if (id.ToHex().compare(0, hex_prefix.size(), hex_prefix) == 0) {
        out->push_back(id);
      }
    }
    return Status::OK();
  }

  Status ForEachObject(
      const std::function<bool(const ObjectId&)>& fn) override {
    std::vector<ObjectId> ids;
    {
      std::shared_lock lock(mu_);
      ids.reserve(objects_.size());
      for (const auto& [id, body] : objects_) ids.push_back(id);
    }
    for (const ObjectId& id : ids)
      if (!fn(id)) break;
    return Status::OK();
  }

  Status GetRecord(std::string_view key, std::string* value) override {
    std::shared_lock lock(mu_);
    auto it = records_.find(std::string(key));
    if (it == records_.end()) {
      return Status::NotFound("record " + std::string(key));
    }
    *value = it->second;
    return Status::OK();
  }

  std::unique_ptr<RecordIterator> NewRecordIterator() override {
    std::shared_lock lock(mu_);
    return std::make_unique<MemoryRecordIterator>(records_);
  }

  Status Apply(const WriteBatch& batch, const WriteOptions& opts) override {
    std::unique_lock lock(mu_);
    for (const auto& put : batch.objects()) {
      auto [it, inserted] = objects_.try_emplace(put.id, put.Joined());
      if (inserted) stored_bytes_ += put.size();
    }
    for (const ObjectId& id : batch.object_deletes()) {
      auto it = objects_.find(id);
      if (it != objects_.end()) {
        stored_bytes_ -= it->second.size();
        objects_.erase(it);
      }
    }
    for (const auto& op : batch.records()) {
      if (op.is_delete) {
        records_.erase(op.key);
      } else {
        records_[op.key] = op.value;
      }
    }
    if (opts.while_syncing) opts.while_syncing();
    return Status::OK();
  }

  Status Sync() override { return Status::OK(); }

  Status GetStats(BackendStats* stats) override {
    std::shared_lock lock(mu_);
    stats->objects = objects_.size();
    stats->stored_bytes = stored_bytes_;
    stats->disk_bytes = 0;
    return Status::OK();
  }

 private:
  std::shared_mutex mu_;
  std::unordered_map<ObjectId, std::string, ObjectIdHash> objects_;
  std::map<std::string, std::string> records_;
  uint64_t stored_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Backend> NewMemoryBackend() {
  return std::make_unique<MemoryBackend>();
}

}  // namespace larix
