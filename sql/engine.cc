#include "sql/engine.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"

namespace larix {
namespace {

std::mutex registry_mu;
std::map<std::string, std::weak_ptr<Engine>>& Registry() {
  static auto* registry = new std::map<std::string, std::weak_ptr<Engine>>();
  return *registry;
}

// An absolute, symlink-free spelling of `path` when it exists, so two
// spellings of one store share one Engine.
std::string CanonicalPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

}  // namespace

Engine::Engine(std::unique_ptr<Store> store) : store_(std::move(store)) {}

Result<std::shared_ptr<Engine>> Engine::Acquire(const std::string& path,
                                                bool create) {
  bool memory = path.rfind(kMemoryPrefix, 0) == 0;
  std::string key = memory ? path : CanonicalPath(path);
  std::lock_guard lock(registry_mu);
  auto& registry = Registry();
  auto it = registry.find(key);
  if (it != registry.end()) {
    if (auto engine = it->second.lock()) return engine;
  }
  std::unique_ptr<Store> store;
  if (memory) {
    store = Store::OpenInMemory();
  } else {
    StoreOptions options;
    options.create_if_missing = create;
    Status s = Store::Open(path, options, &store);
    if (!s.ok()) return s;
  }
  auto engine = std::make_shared<Engine>(std::move(store));
  engine->name_ = key;
  registry[key] = engine;
  return engine;
}

Result<std::shared_ptr<Engine>> Engine::Adopt(const std::string& name,
                                             std::unique_ptr<Store> store) {
  std::lock_guard lock(registry_mu);
  auto& registry = Registry();
  auto it = registry.find(name);
  if (it != registry.end() && !it->second.expired()) {
    return Status::AlreadyExists("a store is already open as " + name);
  }
  auto engine = std::make_shared<Engine>(std::move(store));
  engine->name_ = name;
  registry[name] = engine;
  return engine;
}

Result<std::string> Engine::ResolveBranchRef(const std::string& branch) {
  RefDb* refs = store_->refs();
  std::string name;
  if (branch.rfind("refs/", 0) == 0 || branch == "HEAD") {
    name = branch;
  } else {
    LARIX_RETURN_IF_ERROR(ValidateShortName(branch));
    Result<RefValue> alias = refs->Read(AliasRef(branch));
    name = alias.ok() ? AliasRef(branch) : BranchRef(branch);
  }
  return refs->ResolveName(name);
}

Result<BranchHead> Engine::ReadHead(const std::string& branch) {
  uint64_t version = store_->ref_version();
  {
    std::lock_guard lock(mu_);
    auto it = heads_.find(branch);
    if (it != heads_.end() && it->second.version == version) {
      return it->second.head;
    }
  }
  if (branch.rfind(kCommitSpecPrefix, 0) == 0) {
    LARIX_ASSIGN_OR_RETURN(
        ObjectId id, ObjectId::FromHex(branch.substr(strlen(kCommitSpecPrefix))));
    LARIX_ASSIGN_OR_RETURN(auto c, store_->commits()->Load(id));
    return BranchHead{branch, id, c->tree, /*read_only=*/true};
  }
  LARIX_ASSIGN_OR_RETURN(std::string ref, ResolveBranchRef(branch));
  if (IsBranchRef(ref)) {
    // A manual merge into this branch is in progress: its connections work
    // on the merge's state until it is continued or aborted (sql/merge.h).
    std::string merging = kMergingPrefix + std::string(ShortRefName(ref));
    if (store_->refs()->Read(merging).ok()) ref = merging;
  }
  Result<ObjectId> commit = store_->refs()->Resolve(ref);
  if (!commit.ok()) {
    if (commit.status().IsNotFound()) {
      return Status::NotFound("branch '" + branch + "' does not exist");
    }
    return commit.status();
  }
  LARIX_ASSIGN_OR_RETURN(auto c, store_->commits()->Load(*commit));
  BranchHead head{ref, *commit, c->tree};
  std::lock_guard lock(mu_);
  heads_[branch] = {version, head};
  return head;
}

Result<std::shared_ptr<const SnapshotInfo>> Engine::Describe(
    const ObjectId& tree) {
  {
    std::lock_guard lock(mu_);
    auto it = snapshots_.find(tree);
    if (it != snapshots_.end()) return it->second;
  }
  auto info = std::make_shared<SnapshotInfo>();
  LARIX_ASSIGN_OR_RETURN(info->page_count, store_->trees()->PageCount(tree));
  if (info->page_count > 0) {
    LARIX_ASSIGN_OR_RETURN(ObjectId id, store_->trees()->Get(tree, 0));
    if (id.IsNull()) {
      return Status::Corruption("tree " + tree.ToHex() + " has no page 1");
    }
    LARIX_ASSIGN_OR_RETURN(info->page1, store_->odb()->Read(id));
    LARIX_ASSIGN_OR_RETURN(std::string_view page, DecodePage(*info->page1));
    if (page.size() < 100) {
      return Status::Corruption("page 1 of tree " + tree.ToHex() +
                                " is shorter than a database header");
    }
    auto u = reinterpret_cast<const unsigned char*>(page.data());
    uint32_t size = uint32_t{u[16]} << 8 | u[17];
    info->page_size = size == 1 ? 65536 : size;
    if (info->page_size != page.size()) {
      return Status::Corruption("page 1 of tree " + tree.ToHex() +
                                " declares page size " +
                                std::to_string(info->page_size) +
                                " but holds " + std::to_string(page.size()) +
                                " bytes");
    }
    auto be32 = [&](int at) {
      return uint32_t{u[at]} << 24 | uint32_t{u[at + 1]} << 16 |
             uint32_t{u[at + 2]} << 8 | u[at + 3];
    };
    info->stored_counter = be32(24);
    info->stored_cookie = be32(40);
  }
  std::lock_guard lock(mu_);
  if (snapshots_.size() >= 256) snapshots_.clear();
  snapshots_[tree] = info;
  return std::shared_ptr<const SnapshotInfo>(info);
}

void Engine::RememberHead(const std::string& branch, const BranchHead& head,
                          uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = heads_.find(branch);
  if (it == heads_.end() || it->second.version < version) {
    heads_[branch] = {version, head};
  }
}

bool Engine::TryAcquireWriter(const std::string& ref, const void* owner) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = writers_.try_emplace(ref, owner);
  return inserted || it->second == owner;
}

void Engine::ReleaseWriter(const std::string& ref, const void* owner) {
  std::lock_guard lock(mu_);
  auto it = writers_.find(ref);
  if (it != writers_.end() && it->second == owner) writers_.erase(it);
}

bool Engine::HasWriter(const std::string& ref) {
  std::lock_guard lock(mu_);
  return writers_.count(ref) > 0;
}

}  // namespace larix
