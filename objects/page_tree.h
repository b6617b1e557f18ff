// PageTree: the Merkle radix tree that maps page numbers to page object ids.
//
// A Larix database file is a page tree.  Page numbers are 0-based (SQLite
// page 1 is page 0 here).  The tree is a radix tree of fixed fanout
// F = 2^b (b = fanout bits): a node at level L covers F^(L+1) consecutive
// page numbers, and child i of a level-L node at base B covers
// [B + i*F^L, B + (i+1)*F^L).  Level-0 children are page ids; higher-level
// children are node ids.  Child index of page p at level L is
// (p >> (b*L)) & (F-1).  The tree never reads pages, only their ids.
//
// The node encoding is in docs/format.md ("Page tree nodes"): object header,
// level, fanout bits, a bitmap of F bits, then the present children's ids in
// index order.  The default fanout was chosen by measurement; see
// docs/decisions/0002-page-tree-fanout.md.
//
// Invariants (every tree this class writes keeps them; every reader checks
// the ones it touches and reports Corruption naming the node):
//   1. Canonical form.  A mapping has exactly one tree, so the same mapping
//      always has the same root id, whatever sequence of Apply calls built
//      it.  This needs 2-4:
//   2. Minimal height.  The root is the lowest level that covers the highest
//      present page: a root at level L > 0 has a child other than child 0.
//   3. No empty nodes.  A node has at least one child; a subtree without
//      pages is a null child, and the empty tree's root is the null id.
//   4. Exact levels.  A child of a level-L node is a level-(L-1) node (or a
//      page id when L = 0); no level is ever skipped.
//   5. Sharing.  Apply writes only nodes on paths to changed pages; every
//      other subtree keeps its id, which is what lets Diff skip it unread.
//   6. Every node of one tree has the same fanout, this PageTree's.
//
// Thread-safety: all methods may be called concurrently from any thread.
// The object holds only immutable configuration, the Odb (thread-safe) and
// a thread-safe LRU cache of decoded nodes; Apply's scratch state is local.

#ifndef LARIX_OBJECTS_PAGE_TREE_H_
#define LARIX_OBJECTS_PAGE_TREE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "larix/object_id.h"
#include "larix/status.h"
#include "objects/lru_cache.h"

namespace larix {

class Odb;
class WriteBatch;

// One decoded page tree node.  Plain value; see docs/format.md.
struct PageTreeNode {
  uint8_t level = 0;        // 0: children are page ids
  uint8_t fanout_bits = 0;  // F = 1 << fanout_bits
  // Bit i (word i / 64, bit i % 64) is set when child i is present.
  std::array<uint64_t, 4> bitmap{};
  std::vector<ObjectId> children;  // the present children, in index order

  bool Has(uint32_t i) const { return (bitmap[i >> 6] >> (i & 63)) & 1; }
  // Child i, or the null id when absent.  Requires i < F.
  ObjectId Child(uint32_t i) const;
};

// One page whose id differs between two trees.  A null `before` means the
// page was added, a null `after` that it was removed.
struct PageChange {
  uint32_t pgno;
  ObjectId before, after;

  bool operator==(const PageChange&) const = default;
};

struct DiffStats {
  uint64_t nodes_read = 0;  // tree nodes decoded or taken from the cache
};

class PageTree {
 public:
  static constexpr int kMinFanoutBits = 4;  // F = 16
  static constexpr int kMaxFanoutBits = 8;  // F = 256
  // F = 16: the fewest bytes written per commit of the fanouts measured,
  // at a depth cost too small to measure with a warm node cache.  See
  // bench/page_tree_bench.cc and docs/decisions/0002-page-tree-fanout.md.
  static constexpr int kDefaultFanoutBits = 4;
  // The highest page number a tree may hold, so that PageCount fits in a
  // uint32 (SQLite's own limit is lower still: 2^32 - 2 pages).
  static constexpr uint32_t kMaxPageNumber = 0xfffffffe;

  // `odb` must outlive the PageTree.  `node_cache_bytes` bounds the cache of
  // decoded nodes (0 disables it).  `fanout_bits` must be in
  // [kMinFanoutBits, kMaxFanoutBits] (asserted); every tree this object
  // reads must have been written with the same value.
  PageTree(Odb* odb, size_t node_cache_bytes,
           int fanout_bits = kDefaultFanoutBits);

  PageTree(const PageTree&) = delete;
  PageTree& operator=(const PageTree&) = delete;

  int fanout_bits() const { return bits_; }

  // The id of page `pgno` in the tree at `root`, or the null id if the page
  // is absent (including beyond the end).  Reads at most one node per level.
  // Errors: NotFound if a node is missing from the store, Corruption if a
  // node fails validation; both name the node.
  Result<ObjectId> Get(const ObjectId& root, uint32_t pgno);

  // The highest present page number + 1; 0 for the empty tree.  Reads one
  // node per level.  Errors as for Get.
  Result<uint32_t> PageCount(const ObjectId& root);

  // The number of levels: 0 for the empty tree, root level + 1 otherwise.
  // Reads only the root.  Errors as for Get.
  Result<int> Height(const ObjectId& root);

  // Applies `sets` and then `truncate_to` to the tree at `root` and returns
  // the new root.  `sets` must be sorted by page number without duplicates
  // and hold pages <= kMaxPageNumber; a null id deletes the page.
  // `truncate_to` = n drops every page >= n (after the sets, so a set of a
  // page >= n has no effect).  Every new node is staged into `batch` with
  // Odb::Stage, and nothing else is; untouched subtrees keep their ids.
  // The new nodes also go into the node cache, so the new root can be read
  // before `batch` is applied as long as the cache still holds them (size
  // the cache for the batches you make, or apply the batch first).
  // Cost: O(k * height * F) for k sets; a truncation adds O(height * F) and
  // never reads the subtrees it drops.  If nothing changes, returns `root`
  // and stages nothing.
  // Errors: InvalidArgument for unsorted/duplicate/out-of-range sets;
  // otherwise as for Get.  On error `batch` may hold some staged nodes that
  // nothing references; the caller discards the batch.
  Result<ObjectId> Apply(
      const ObjectId& root,
      const std::vector<std::pair<uint32_t, ObjectId>>& sets,
      std::optional<uint32_t> truncate_to, WriteBatch* batch);

  // Appends to *out, in ascending page order, every page whose id differs
  // between the trees at `a` (before) and `b` (after), including pages
  // present in only one of them.  Subtrees with equal ids are skipped
  // without being read, so the work is O(changes * height), independent of
  // the tree size; trees of different heights and empty trees are fine.
  // `stats`, if given, is incremented.  Errors as for Get; *out may then
  // hold a prefix of the changes.
  Status Diff(const ObjectId& a, const ObjectId& b,
              std::vector<PageChange>* out, DiffStats* stats = nullptr);

  // Calls fn(pgno, page id) for every present page in ascending order until
  // fn returns false.  Errors as for Get.
  Status ForEach(const ObjectId& root,
                 const std::function<bool(uint32_t pgno, const ObjectId& page)>&
                     fn);

  // Depth-first pre-order walk for GC marking and fsck.  visit_node(id) is
  // called for every node before it is read; returning false skips that
  // node's subtree (e.g. it is already marked).  visit_page(id) is called
  // for every page reference (once per occurrence, in page order within a
  // visited subtree).  Errors as for Get.
  Status WalkNodes(const ObjectId& root,
                   const std::function<bool(const ObjectId& node)>& visit_node,
                   const std::function<void(const ObjectId& page)>& visit_page);

  // --- Encoding, for fsck and tests -------------------------------------

  // The canonical encoding of `node`.  Requires a well-formed node
  // (fanout bits in range, children matching the bitmap); asserted.
  static std::string EncodeNode(const PageTreeNode& node);

  // Decodes and validates the canonical encoding of tree node `id`: object
  // kind and version, fanout bits in [kMinFanoutBits, kMaxFanoutBits],
  // level <= MaxLevel, a non-empty bitmap whose popcount matches the number
  // of child ids, no bits a uint32 page number cannot reach, no null child
  // ids, no trailing bytes.  Corruption naming `id` on any failure
  // (NotSupported for a newer format version).  Does not check that the
  // fanout is a particular tree's; the PageTree methods do.
  static Result<PageTreeNode> DecodeNode(const ObjectId& id,
                                         std::string_view canonical);

  // The child ids of tree node `id`, in index order; *level (if given)
  // receives the node's level (0: the children are pages).  Errors as for
  // DecodeNode.
  static Result<std::vector<ObjectId>> ChildrenOf(const ObjectId& id,
                                                  std::string_view canonical,
                                                  int* level = nullptr);

  // The highest level a tree of this fanout can have: enough levels to
  // cover 2^32 page numbers, minus one.
  static int MaxLevel(int fanout_bits) {
    return (31 + fanout_bits) / fanout_bits - 1;
  }

 private:
  using NodePtr = std::shared_ptr<const PageTreeNode>;
  struct Handle;
  struct View;
  struct Ref;
  struct ApplyState;

  // Reads node `id`, which must be at `level` in this tree; from the cache
  // when possible.  Counts the read in *nodes_read if given.
  // *depth, if given, receives the delta depth of its stored form.
  Result<NodePtr> ReadNode(const ObjectId& id, int level,
                           uint64_t* nodes_read = nullptr,
                           int* depth = nullptr);
  // Reads a root (any level) and checks invariant 2.
  Result<NodePtr> ReadRoot(const ObjectId& id, uint64_t* nodes_read = nullptr);

  Result<Ref> Update(const Handle& in, int level, uint64_t base,
                     std::span<const std::pair<uint32_t, ObjectId>> sets,
                     uint64_t limit, ApplyState* state);
  void Finish(ApplyState* state, WriteBatch* batch);
  Result<View> LoadView(const Handle& h, int level, uint64_t* nodes_read);
  Status DiffViews(const View& a, const View& b, int level, uint64_t base,
                   std::vector<PageChange>* out, uint64_t* nodes_read);
  Status ForEachIn(const NodePtr& node, uint64_t base,
                   const std::function<bool(uint32_t, const ObjectId&)>& fn,
                   bool* stop);
  Status WalkIn(const ObjectId& id, int level,
                const std::function<bool(const ObjectId&)>& visit_node,
                const std::function<void(const ObjectId&)>& visit_page);

  uint64_t SpanOfLevel(int level) const {
    return uint64_t{1} << (bits_ * (level + 1));
  }

  Odb* const odb_;
  const int bits_;
  const uint32_t fanout_;
  LruCache<PageTreeNode> cache_;
};

}  // namespace larix

#endif  // LARIX_OBJECTS_PAGE_TREE_H_
