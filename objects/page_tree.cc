// Implementation of the Merkle page tree (objects/page_tree.h).
//
// Every operation walks from the root down.  Two ideas carry the code:
//
// Handles and lifting.  A Handle is (id, level of that node).  Apply and
// Diff sometimes work at a level above a tree's root: a tree that grows
// gets a new root above the old one, and Diff of two trees of different
// heights walks both from the taller height.  A handle whose level is below
// the level being processed stands for the chain of "only child 0" nodes
// that would lift it there; it is never encoded unless Apply has to
// materialise it, so reading a shorter tree as a taller one costs nothing.
//
// Deferred staging.  Apply builds bottom-up: a node's id is needed before
// its parent can be encoded.  When a change can shrink the tree (a delete
// or a truncation), the top of the result may be a chain of nodes with only
// child 0, which invariant 2 forbids; those are cut off after the walk.  So
// in that case Apply first collects the new nodes, cuts the chain, and only
// then stages the survivors; when nothing is removed the height cannot
// shrink and nodes are staged as they are built.
//
// Invariants of this file (beyond the header's):
//   1. Update() returns either its input id unchanged (nothing below it
//      changed) or the id of a freshly built node, or null when the subtree
//      became empty; it never returns a node with no children.
//   2. Update() never reads a subtree that a truncation drops whole, nor one
//      that no set touches.
//   3. Every node that reaches the batch is also inserted in the cache.

#include "objects/page_tree.h"

#include <algorithm>
#include <bit>
#include <cassert>

#include "larix/commit.h"
#include "larix/sys/backend.h"
#include "objects/object_format.h"
#include "objects/odb.h"

namespace larix {

namespace {

using Bitmap = std::array<uint64_t, 4>;

std::string NodeName(const ObjectId& id) {
  return "page tree node " + id.ToHex();
}

size_t ChargeOf(const PageTreeNode& node) {
  return sizeof(PageTreeNode) + node.children.size() * ObjectId::kSize + 32;
}

bool OnlyChildZero(const Bitmap& b) {
  return b[0] == 1 && b[1] == 0 && b[2] == 0 && b[3] == 0;
}

// Calls fn(i) for every set bit i of `b` in ascending order.
template <typename Fn>
void ForEachBit(const Bitmap& b, Fn&& fn) {
  for (int w = 0; w < 4; w++) {
    uint64_t word = b[w];
    while (word != 0) {
      fn(static_cast<uint32_t>(w * 64 + std::countr_zero(word)));
      word &= word - 1;
    }
  }
}

// The number of page-number bits left for the child index of a node at
// `level`: fanout_bits, except on the top level when 32 is not a multiple
// of fanout_bits.
int TopIndexBits(int fanout_bits, int level) {
  return std::min(fanout_bits, 32 - fanout_bits * level);
}

}  // namespace

ObjectId PageTreeNode::Child(uint32_t i) const {
  if (!Has(i)) return ObjectId();
  size_t rank = 0;
  for (uint32_t w = 0; w < (i >> 6); w++) rank += std::popcount(bitmap[w]);
  uint64_t below = bitmap[i >> 6] & ((uint64_t{1} << (i & 63)) - 1);
  rank += std::popcount(below);
  return children[rank];
}

// A node (id, the level it really has).  See "Handles and lifting" above.
struct PageTree::Handle {
  ObjectId id;
  int level = 0;
};

// The children of a handle seen at some level: a decoded node, a lifted
// handle (whose only child, child 0, is the handle itself one level down),
// or nothing.
struct PageTree::View {
  NodePtr node;
  Handle lifted;

  Bitmap bitmap() const {
    if (node) return node->bitmap;
    if (!lifted.id.IsNull()) return Bitmap{1, 0, 0, 0};
    return Bitmap{};
  }
};

// A child in the making: an id (a page, an unchanged subtree, or null) or
// a node Apply creates, by its index in ApplyState::created, whose id is
// known only once its level is hashed.
struct PageTree::Ref {
  ObjectId id;
  int32_t created = -1;

  bool IsNull() const { return created < 0 && id.IsNull(); }
  bool operator==(const Ref&) const = default;
};

// Scratch state of one Apply call.  Update collects the new nodes, children
// before parents; Finish hashes them a level at a time, so that the nodes
// of one level go through the hash kernel's lanes together
// (Odb::IdsOf), stages them and caches them.
struct PageTree::ApplyState {
  struct NewNode {
    int level = 0;
    Bitmap bitmap{};
    std::vector<Ref> children;  // the present children, in index order
    // The node this one replaces (the base of its delta), if any.
    ObjectId old_id;
    NodePtr old;
    int old_depth = 0;
    bool keep = true;  // false: cut off the top (invariant 2)
    // Set by Finish.
    ObjectId id;
    int depth = 0;  // delta depth of its stored form
  };
  std::vector<NewNode> created;
};

PageTree::PageTree(Odb* odb, size_t node_cache_bytes, int fanout_bits)
    : odb_(odb),
      bits_(fanout_bits),
      fanout_(uint32_t{1} << fanout_bits),
      cache_(node_cache_bytes) {
  assert(fanout_bits >= kMinFanoutBits && fanout_bits <= kMaxFanoutBits);
}

// ---------------------------------------------------------------------------
// Encoding

std::string PageTree::EncodeNode(const PageTreeNode& node) {
  const int bits = node.fanout_bits;
  assert(bits >= kMinFanoutBits && bits <= kMaxFanoutBits);
  const uint32_t fanout = uint32_t{1} << bits;
  std::string out;
  out.reserve(kObjectHeaderSize + 2 + fanout / 8 +
              node.children.size() * ObjectId::kSize);
  PutObjectHeader(&out, ObjectKind::kTreeNode);
  out.push_back(static_cast<char>(node.level));
  out.push_back(static_cast<char>(bits));
  size_t present = 0;
  for (uint32_t byte = 0; byte < fanout / 8; byte++) {
    uint8_t v = static_cast<uint8_t>(node.bitmap[byte / 8] >> (8 * (byte % 8)));
    present += std::popcount(v);
    out.push_back(static_cast<char>(v));
  }
  assert(present == node.children.size());
  (void)present;
  for (const ObjectId& child : node.children) out.append(child.AsBytes());
  return out;
}

Result<PageTreeNode> PageTree::DecodeNode(const ObjectId& id,
                                          std::string_view canonical) {
  Result<std::string_view> payload =
      ObjectPayload(canonical, ObjectKind::kTreeNode);
  if (!payload.ok()) return payload.status().WithContext(NodeName(id));
  std::string_view in = *payload;
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption(NodeName(id) + ": " + why);
  };
  if (in.size() < 2) return corrupt("truncated before level and fanout");
  PageTreeNode node;
  node.level = static_cast<uint8_t>(in[0]);
  node.fanout_bits = static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  const int bits = node.fanout_bits;
  if (bits < kMinFanoutBits || bits > kMaxFanoutBits) {
    return corrupt("fanout bits " + std::to_string(bits) + " not in [" +
                   std::to_string(kMinFanoutBits) + ", " +
                   std::to_string(kMaxFanoutBits) + "]");
  }
  const int max_level = MaxLevel(bits);
  if (node.level > max_level) {
    return corrupt("level " + std::to_string(node.level) +
                   " above the highest level " + std::to_string(max_level) +
                   " of a fanout-" + std::to_string(1 << bits) + " tree");
  }
  const uint32_t fanout = uint32_t{1} << bits;
  if (in.size() < fanout / 8) return corrupt("truncated bitmap");
  size_t present = 0;
  for (uint32_t byte = 0; byte < fanout / 8; byte++) {
    uint64_t v = static_cast<uint8_t>(in[byte]);
    node.bitmap[byte / 8] |= v << (8 * (byte % 8));
    present += std::popcount(v);
  }
  in.remove_prefix(fanout / 8);
  if (present == 0) return corrupt("empty node (no children)");
  if (node.level == max_level) {
    const int index_bits = TopIndexBits(bits, node.level);
    for (uint32_t i = uint32_t{1} << index_bits; i < fanout; i++) {
      if (node.Has(i)) {
        return corrupt("child " + std::to_string(i) +
                       " lies beyond page number 2^32");
      }
    }
  }
  if (in.size() != present * ObjectId::kSize) {
    return corrupt("bitmap has " + std::to_string(present) + " children but " +
                   std::to_string(in.size()) + " bytes of ids follow (want " +
                   std::to_string(present * ObjectId::kSize) + ")");
  }
  node.children.reserve(present);
  for (size_t i = 0; i < present; i++) {
    ObjectId child = ObjectId::FromRaw(in.data() + i * ObjectId::kSize);
    if (child.IsNull()) return corrupt("null child id");
    node.children.push_back(child);
  }
  return node;
}

Result<std::vector<ObjectId>> PageTree::ChildrenOf(const ObjectId& id,
                                                   std::string_view canonical,
                                                   int* level) {
  LARIX_ASSIGN_OR_RETURN(PageTreeNode node, DecodeNode(id, canonical));
  if (level != nullptr) *level = node.level;
  return std::move(node.children);
}

// ---------------------------------------------------------------------------
// Reading

// Reads node `id` and checks it is at `level` with this tree's fanout.
// NotFound/Corruption name the node.
Result<PageTree::NodePtr> PageTree::ReadNode(const ObjectId& id, int level,
                                             uint64_t* nodes_read,
                                             int* depth) {
  if (nodes_read != nullptr) ++*nodes_read;
  uint8_t aux = 0;
  NodePtr node = cache_.Lookup(id, &aux);
  if (!node) {
    int stored_depth = 0;
    Result<Odb::Object> canonical = odb_->Read(id, &stored_depth);
    aux = static_cast<uint8_t>(stored_depth);
    if (!canonical.ok()) {
      return canonical.status().WithContext("reading page tree node");
    }
    LARIX_ASSIGN_OR_RETURN(PageTreeNode decoded, DecodeNode(id, **canonical));
    if (decoded.fanout_bits != bits_) {
      return Status::Corruption(NodeName(id) + ": fanout " +
                                std::to_string(1 << decoded.fanout_bits) +
                                " in a fanout-" + std::to_string(fanout_) +
                                " tree");
    }
    auto shared = std::make_shared<const PageTreeNode>(std::move(decoded));
    cache_.Insert(id, shared, ChargeOf(*shared), aux);
    node = std::move(shared);
  }
  if (depth != nullptr) *depth = aux;
  if (level >= 0 && node->level != level) {
    return Status::Corruption(NodeName(id) + ": level " +
                              std::to_string(node->level) + " where level " +
                              std::to_string(level) + " was expected");
  }
  return node;
}

// Reads a root, whose level is whatever it says, and checks minimal height.
Result<PageTree::NodePtr> PageTree::ReadRoot(const ObjectId& id,
                                             uint64_t* nodes_read) {
  LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadNode(id, -1, nodes_read));
  if (node->level > 0 && OnlyChildZero(node->bitmap)) {
    return Status::Corruption(NodeName(id) + ": root at level " +
                              std::to_string(node->level) +
                              " has only child 0 (not of minimal height)");
  }
  return node;
}

Result<int> PageTree::Height(const ObjectId& root) {
  if (root.IsNull()) return 0;
  LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadRoot(root));
  return node->level + 1;
}

Result<ObjectId> PageTree::Get(const ObjectId& root, uint32_t pgno) {
  if (root.IsNull()) return ObjectId();
  LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadRoot(root));
  int level = node->level;
  if (pgno >= SpanOfLevel(level)) return ObjectId();
  while (true) {
    uint32_t index = static_cast<uint32_t>(
        (uint64_t{pgno} >> (bits_ * level)) & (fanout_ - 1));
    ObjectId child = node->Child(index);
    if (child.IsNull() || level == 0) return child;
    --level;
    LARIX_ASSIGN_OR_RETURN(node, ReadNode(child, level));
  }
}

Result<uint32_t> PageTree::PageCount(const ObjectId& root) {
  if (root.IsNull()) return uint32_t{0};
  LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadRoot(root));
  int level = node->level;
  uint64_t base = 0;
  while (true) {
    uint32_t last = 0;
    ForEachBit(node->bitmap, [&](uint32_t i) { last = i; });
    if (level == 0) {
      uint64_t count = base + last + 1;
      if (count - 1 > kMaxPageNumber) {
        return Status::Corruption(NodeName(root) +
                                  ": holds page number 2^32-1");
      }
      return static_cast<uint32_t>(count);
    }
    base += uint64_t{last} << (bits_ * level);
    --level;
    LARIX_ASSIGN_OR_RETURN(node, ReadNode(node->children.back(), level));
  }
}

// ---------------------------------------------------------------------------
// Apply

// Returns the new subtree at `level` covering [base, base +
// SpanOfLevel(level)) after applying `sets` (all inside that range and
// below `limit`) and dropping pages >= `limit`: an existing id, null, or a
// node in state->created.  `in` is the old subtree: null, a node at
// `level`, or a lower node lifted to `level`.
Result<PageTree::Ref> PageTree::Update(
    const Handle& in, int level, uint64_t base,
    std::span<const std::pair<uint32_t, ObjectId>> sets, uint64_t limit,
    ApplyState* state) {
  if (base >= limit) return Ref{};  // dropped whole, never read
  const uint64_t span = SpanOfLevel(level);
  const bool truncating = base + span > limit;
  if (in.id.IsNull() && sets.empty()) return Ref{};
  const bool lifted = !in.id.IsNull() && in.level < level;
  if (!lifted && sets.empty() && !truncating) return Ref{in.id};

  std::vector<Ref> kids(fanout_);
  NodePtr old;  // the node this one replaces: the base of its delta
  int old_depth = 0;
  if (lifted) {
    kids[0] = Ref{in.id};
  } else if (!in.id.IsNull()) {
    LARIX_ASSIGN_OR_RETURN(old, ReadNode(in.id, level, nullptr, &old_depth));
    size_t rank = 0;
    ForEachBit(old->bitmap,
               [&](uint32_t i) { kids[i] = Ref{old->children[rank++]}; });
  }
  // A lifted node does not exist yet, so it is always new (or empty).  A
  // child node created below differs from the one it replaces, so it is a
  // change too.
  bool changed = lifted;
  auto assign = [&](uint64_t i, const Ref& ref) {
    if (kids[i] != ref) {
      kids[i] = ref;
      changed = true;
    }
  };

  if (level == 0) {
    for (const auto& [pgno, id] : sets) assign(pgno - base, Ref{id});
    if (truncating) {
      for (uint64_t i = limit - base; i < fanout_; i++) assign(i, Ref{});
    }
  } else {
    const int child_level = level - 1;
    const uint64_t child_span = SpanOfLevel(child_level);
    // Children to descend into, ascending: those holding sets, the one the
    // truncation cuts through, and child 0 of a lifted node (which must be
    // materialised at child_level even if nothing below it changes).
    std::vector<uint32_t> visit;
    if (lifted) visit.push_back(0);
    for (const auto& set : sets) {
      auto i = static_cast<uint32_t>((set.first - base) / child_span);
      if (visit.empty() || visit.back() != i) visit.push_back(i);
    }
    uint64_t drop_from = fanout_;  // first child wholly at or above limit
    if (truncating) {
      drop_from = (limit - base + child_span - 1) / child_span;
      if ((limit - base) % child_span != 0) {
        auto cut = static_cast<uint32_t>((limit - base) / child_span);
        if (visit.empty() || visit.back() < cut) visit.push_back(cut);
      }
    }
    size_t s = 0;
    for (uint32_t i : visit) {
      const uint64_t child_base = base + i * child_span;
      size_t e = s;
      while (e < sets.size() && sets[e].first < child_base + child_span) e++;
      assert(kids[i].created < 0);  // still the old child
      Handle child =
          (lifted && i == 0) ? in : Handle{kids[i].id, child_level};
      LARIX_ASSIGN_OR_RETURN(
          Ref ref, Update(child, child_level, child_base,
                          sets.subspan(s, e - s), limit, state));
      assign(i, ref);
      s = e;
    }
    assert(s == sets.size());
    for (uint64_t i = drop_from; i < fanout_; i++) assign(i, Ref{});
  }

  if (!changed) return Ref{in.id};
  ApplyState::NewNode node;
  node.level = level;
  node.children.reserve(static_cast<size_t>(std::count_if(
      kids.begin(), kids.end(), [](const Ref& k) { return !k.IsNull(); })));
  for (uint32_t i = 0; i < fanout_; i++) {
    if (kids[i].IsNull()) continue;
    node.bitmap[i >> 6] |= uint64_t{1} << (i & 63);
    node.children.push_back(kids[i]);
  }
  if (node.children.empty()) return Ref{};
  if (old) {
    node.old_id = in.id;
    node.old = std::move(old);
    node.old_depth = old_depth;
  }
  state->created.push_back(std::move(node));
  return Ref{ObjectId(), static_cast<int32_t>(state->created.size() - 1)};
}

// Gives the kept new nodes their ids, a level at a time from the leaves up
// (a node's children are a level below it), and stages and caches them.
// Usually one child id changed: a node with a predecessor is stored as a
// delta against it, ~40 bytes instead of the node (up to 4 + F/8 + 32F
// bytes).
void PageTree::Finish(ApplyState* state, WriteBatch* batch) {
  std::vector<std::vector<size_t>> levels;
  for (size_t i = 0; i < state->created.size(); i++) {
    const ApplyState::NewNode& n = state->created[i];
    if (!n.keep) continue;
    if (levels.size() <= static_cast<size_t>(n.level)) levels.resize(n.level + 1);
    levels[n.level].push_back(i);
  }
  std::vector<std::shared_ptr<const std::string>> canonical;
  std::vector<std::shared_ptr<const PageTreeNode>> decoded;
  std::vector<std::string_view> views;
  std::vector<ObjectId> ids;
  for (const std::vector<size_t>& level : levels) {
    canonical.clear();
    decoded.clear();
    views.clear();
    for (size_t i : level) {
      const ApplyState::NewNode& n = state->created[i];
      PageTreeNode node;
      node.level = static_cast<uint8_t>(n.level);
      node.fanout_bits = static_cast<uint8_t>(bits_);
      node.bitmap = n.bitmap;
      node.children.reserve(n.children.size());
      for (const Ref& child : n.children) {
        if (child.created < 0) {
          node.children.push_back(child.id);
        } else {
          assert(state->created[child.created].keep);
          assert(state->created[child.created].level == n.level - 1);
          node.children.push_back(state->created[child.created].id);
        }
      }
      canonical.push_back(
          std::make_shared<const std::string>(EncodeNode(node)));
      views.push_back(*canonical.back());
      decoded.push_back(std::make_shared<const PageTreeNode>(std::move(node)));
    }
    ids.resize(level.size());
    odb_->IdsOf(views.data(), views.size(), ids.data());
    for (size_t j = 0; j < level.size(); j++) {
      ApplyState::NewNode& n = state->created[level[j]];
      n.id = ids[j];
      Odb::Base b;
      if (n.old) {
        b = Odb::Base{n.old_id,
                      std::make_shared<const std::string>(EncodeNode(*n.old)),
                      n.old_depth};
      }
      Odb::Prepared p = odb_->Prepare(std::move(canonical[j]), n.id,
                                      odb_->zstd_level(), n.old ? &b : nullptr);
      n.depth = p.depth;
      odb_->Stage(batch, std::move(p));
      cache_.Insert(n.id, decoded[j], ChargeOf(*decoded[j]),
                    static_cast<uint8_t>(n.depth));
      // The node replaced is probably dead (unless another tree shares
      // it): it makes room before live nodes do, and while it is still in
      // the CPU's cache, where the least recent entry is not.
      if (n.old) cache_.Demote(n.old_id);
    }
  }
}

Result<ObjectId> PageTree::Apply(
    const ObjectId& root,
    const std::vector<std::pair<uint32_t, ObjectId>>& sets,
    std::optional<uint32_t> truncate_to, WriteBatch* batch) {
  assert(batch != nullptr);
  for (size_t i = 0; i < sets.size(); i++) {
    if (sets[i].first > kMaxPageNumber) {
      return Status::InvalidArgument("page number " +
                                     std::to_string(sets[i].first) +
                                     " is beyond the last page " +
                                     std::to_string(kMaxPageNumber));
    }
    if (i > 0 && sets[i].first <= sets[i - 1].first) {
      return Status::InvalidArgument(
          "page tree sets must be sorted by page number without duplicates "
          "(page " + std::to_string(sets[i].first) + " follows page " +
          std::to_string(sets[i - 1].first) + ")");
    }
  }
  const uint64_t limit =
      truncate_to ? uint64_t{*truncate_to} : ~uint64_t{0};

  Handle old;
  old.id = root;
  uint64_t covered = 0;  // page numbers the old root's level covers
  if (!root.IsNull()) {
    LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadRoot(root));
    old.level = node->level;
    covered = SpanOfLevel(old.level);
  }

  // Sets that can change anything: below the limit, and either a store or
  // a delete of a page the old tree might hold.
  std::vector<std::pair<uint32_t, ObjectId>> effective;
  effective.reserve(sets.size());
  int level = old.level;
  for (const auto& set : sets) {
    if (set.first >= limit) break;
    if (set.second.IsNull()) {
      if (set.first >= covered) continue;
    } else {
      while (set.first >= SpanOfLevel(level)) level++;
    }
    effective.push_back(set);
  }
  const bool truncating = !root.IsNull() && limit < covered;
  if (effective.empty() && !truncating) return root;

  ApplyState state;
  LARIX_ASSIGN_OR_RETURN(Ref new_root,
                         Update(old, level, 0, effective, limit, &state));

  // Cut the chain of only-child-0 nodes off the top (invariant 2).  Only
  // removals and truncation can leave one.
  while (!new_root.IsNull() && level > 0) {
    if (new_root.created >= 0) {
      ApplyState::NewNode& created = state.created[new_root.created];
      if (!OnlyChildZero(created.bitmap)) break;
      created.keep = false;
      new_root = created.children[0];
    } else {
      LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadNode(new_root.id, level));
      if (!OnlyChildZero(node->bitmap)) break;
      new_root = Ref{node->children[0]};
    }
    --level;
  }

  Finish(&state, batch);
  return new_root.created >= 0 ? state.created[new_root.created].id
                               : new_root.id;
}

// ---------------------------------------------------------------------------
// Diff

// The children of `h` as seen from `level` >= h.level: its decoded node
// (one read, counted), its lifted self, or nothing.
Result<PageTree::View> PageTree::LoadView(const Handle& h, int level,
                                          uint64_t* nodes_read) {
  View v;
  if (h.id.IsNull()) return v;
  if (h.level < level) {
    v.lifted = h;
    return v;
  }
  LARIX_ASSIGN_OR_RETURN(v.node, ReadNode(h.id, level, nodes_read));
  return v;
}

// Appends the changes between two subtrees seen at `level`, covering page
// numbers from `base`.  Reads only the children whose ids differ.
Status PageTree::DiffViews(const View& a, const View& b, int level,
                           uint64_t base, std::vector<PageChange>* out,
                           uint64_t* nodes_read) {
  const Bitmap bits_a = a.bitmap(), bits_b = b.bitmap();
  Bitmap both;
  for (int w = 0; w < 4; w++) both[w] = bits_a[w] | bits_b[w];

  // Child i of a view, advancing that view's rank counter when present.
  auto child = [level](const View& v, const Bitmap& bm, uint32_t i,
                       size_t* rank) -> Handle {
    if (!((bm[i >> 6] >> (i & 63)) & 1)) return Handle{};
    if (!v.node) return v.lifted;
    return Handle{v.node->children[(*rank)++], level - 1};
  };

  size_t rank_a = 0, rank_b = 0;
  const uint64_t child_span = level > 0 ? SpanOfLevel(level - 1) : 1;
  Status s;
  ForEachBit(both, [&](uint32_t i) {
    Handle ca = child(a, bits_a, i, &rank_a);
    Handle cb = child(b, bits_b, i, &rank_b);
    if (!s.ok() || ca.id == cb.id) return;  // equal subtrees: skipped unread
    if (level == 0) {
      out->push_back(PageChange{static_cast<uint32_t>(base + i), ca.id, cb.id});
      return;
    }
    Result<View> va = LoadView(ca, level - 1, nodes_read);
    if (!va.ok()) {
      s = va.status();
      return;
    }
    Result<View> vb = LoadView(cb, level - 1, nodes_read);
    if (!vb.ok()) {
      s = vb.status();
      return;
    }
    s = DiffViews(*va, *vb, level - 1, base + i * child_span, out, nodes_read);
  });
  return s;
}

Status PageTree::Diff(const ObjectId& a, const ObjectId& b,
                      std::vector<PageChange>* out, DiffStats* stats) {
  if (a == b) return Status::OK();
  uint64_t nodes_read = 0;
  View va, vb;
  if (!a.IsNull()) {
    LARIX_ASSIGN_OR_RETURN(va.node, ReadRoot(a, &nodes_read));
  }
  if (!b.IsNull()) {
    LARIX_ASSIGN_OR_RETURN(vb.node, ReadRoot(b, &nodes_read));
  }
  const int level_a = va.node ? va.node->level : 0;
  const int level_b = vb.node ? vb.node->level : 0;
  const int level = std::max(level_a, level_b);
  // The shorter tree is seen lifted to the taller one's height.
  if (va.node && level_a < level) va = View{nullptr, Handle{a, level_a}};
  if (vb.node && level_b < level) vb = View{nullptr, Handle{b, level_b}};
  Status s = DiffViews(va, vb, level, 0, out, &nodes_read);
  if (stats != nullptr) stats->nodes_read += nodes_read;
  return s;
}

// ---------------------------------------------------------------------------
// Walks

Status PageTree::ForEachIn(
    const NodePtr& node, uint64_t base,
    const std::function<bool(uint32_t, const ObjectId&)>& fn, bool* stop) {
  const int level = node->level;
  const uint64_t child_span = level > 0 ? SpanOfLevel(level - 1) : 1;
  size_t rank = 0;
  Status s;
  ForEachBit(node->bitmap, [&](uint32_t i) {
    const ObjectId& child = node->children[rank++];
    if (*stop || !s.ok()) return;
    if (level == 0) {
      if (!fn(static_cast<uint32_t>(base + i), child)) *stop = true;
      return;
    }
    Result<NodePtr> sub = ReadNode(child, level - 1);
    if (!sub.ok()) {
      s = sub.status();
      return;
    }
    s = ForEachIn(*sub, base + i * child_span, fn, stop);
  });
  return s;
}

Status PageTree::ForEach(
    const ObjectId& root,
    const std::function<bool(uint32_t pgno, const ObjectId& page)>& fn) {
  if (root.IsNull()) return Status::OK();
  LARIX_ASSIGN_OR_RETURN(NodePtr node, ReadRoot(root));
  bool stop = false;
  return ForEachIn(node, 0, fn, &stop);
}

Status PageTree::WalkIn(
    const ObjectId& id, int level,
    const std::function<bool(const ObjectId&)>& visit_node,
    const std::function<void(const ObjectId&)>& visit_page) {
  if (!visit_node(id)) return Status::OK();
  NodePtr node;
  if (level < 0) {
    LARIX_ASSIGN_OR_RETURN(node, ReadRoot(id));
  } else {
    LARIX_ASSIGN_OR_RETURN(node, ReadNode(id, level));
  }
  if (node->level == 0) {
    for (const ObjectId& page : node->children) visit_page(page);
    return Status::OK();
  }
  for (const ObjectId& child : node->children) {
    LARIX_RETURN_IF_ERROR(WalkIn(child, node->level - 1, visit_node,
                                 visit_page));
  }
  return Status::OK();
}

Status PageTree::WalkNodes(
    const ObjectId& root,
    const std::function<bool(const ObjectId& node)>& visit_node,
    const std::function<void(const ObjectId& page)>& visit_page) {
  if (root.IsNull()) return Status::OK();
  return WalkIn(root, -1, visit_node, visit_page);
}

}  // namespace larix
