// The hierarchical timing wheel. How it is laid out, and why it is exact:
//
// Keys. A due second is mapped to an unsigned key by flipping the sign bit, which keeps order,
// so the whole int64 range (negative times included) is one unsigned range.
//
// Levels. The key is read as 8 digits of 8 bits, one per level. A timer with key `due` >
// `now` lives at the level of the highest digit in which `due` and `now` differ, in the slot
// named by that digit of `due` (the scheme of Linux's and Tokio's timer wheels). So at level L
// every timer agrees with `now` on all digits above L and has a larger digit L than `now`:
// - every occupied slot of a level lies after now's digit, so the first set bit of the level's
//   occupancy bitmap is its next slot (no wrap-around), and
// - every timer at level L is earlier than every timer at a higher level, so the earliest timer
//   is in the first occupied slot of the lowest occupied level.
// A slot at level 0 holds exactly one second; a slot at level L covers 256^L seconds.
//
// Advancing. The time jumps straight to the first second covered by the earliest occupied slot
// (its deadline), never through empty seconds: a jump of 30 years with few timers costs a few
// bitmap scans. There the slot is emptied: timers due at that second join the firing round,
// the others cascade to a lower level (each timer cascades at most `levels - 1` times). Jumping
// to a second before the earliest deadline keeps every timer's placement valid, because all
// seconds between `now` and a slot's deadline share the digits above that slot's level.
//
// Firing. Timers due at or before `now` are fired in rounds: a round takes them all (the
// expired slot, the cascaded ones, the overdue bucket), sorts them by (due_s, payload) and
// hands them out one by one. Sorting at fire time is what makes the order independent of
// insertion and cascade history. A timer scheduled during a round with due_s <= now goes to
// the overdue bucket and forms the next round at the same second.
//
// Buckets. A slot's timers are an unordered array of node indices. Arrays rather than intrusive
// linked lists because cascading walks a whole slot: over an array the node reads are independent
// and their cache misses overlap (and are prefetched), where a list walk waits for one miss after
// another; measured 3-4x faster expiry at 1M-10M timers. Buckets give back memory when they empty
// or thin out.
//
// Cancelling. A cancelled node is only marked (generation bumped, so its handle is stale at once)
// and stays in its bucket: the walk that empties the slot gives it back, reading the node it
// reads anyway. A swap-remove would touch the node, its place in the bucket and the node moved
// into that place: three cache misses where marking takes one (measured: cancel was most of the
// wheel's time on the benchmark's workload, half of all timers cancelled). So that cancelled
// nodes cannot pile up in far-away slots, a slot whose cancelled nodes outnumber its live ones
// by more than `slot_cancelled_slack` is compacted on the spot, and a slot left with no live
// timer is emptied: the occupancy bitmaps only ever name slots with a live timer.
//
// Memory. Nodes are 24 bytes in 6 MiB chunks of 2^18, addressed by u32 index; freed nodes go
// on a LIFO free list. A node's generation is bumped when it is freed; a node whose generation
// would wrap to 0 is retired (never reused), so a stale handle can never alias a later timer.
#include "engine/timing_wheel.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdlib>
#include <new>

namespace tl {
namespace {

constexpr uint32_t nil = UINT32_MAX;
constexpr uint16_t wheel_buckets = TimingWheel::levels * TimingWheel::slots_per_level;
constexpr uint16_t overdue_bucket = wheel_buckets;  // the bucket after the wheel's slots
// Places of a node that is in no bucket.
constexpr uint16_t place_free = 0xFFFF;
constexpr uint16_t place_firing = 0xFFFE;
// An emptied bucket keeps at most this much capacity; larger buffers go back to the allocator,
// so memory follows the pending timers instead of the largest bucket ever seen.
constexpr size_t bucket_capacity_kept_max = 64;
// Cascading reads nodes in bucket order: ask for this many nodes ahead, so that their cache
// misses overlap instead of coming one after the other.
constexpr size_t cascade_prefetch_nodes = 8;
constexpr uint64_t sign_bit = uint64_t{1} << 63;
constexpr size_t huge_page_bytes = size_t{2} << 20;

static_assert(TimingWheel::levels * TimingWheel::slot_bits >= 64, "levels must cover 64 bits");
static_assert(uint32_t{overdue_bucket} + 1 < place_firing, "bucket numbers fit in u16");

uint64_t key_of(int64_t seconds) { return static_cast<uint64_t>(seconds) ^ sign_bit; }
int64_t seconds_of(uint64_t key) { return static_cast<int64_t>(key ^ sign_bit); }

uint32_t digit(uint64_t key, uint32_t level) {
  return static_cast<uint32_t>(key >> (level * TimingWheel::slot_bits)) & (TimingWheel::slots_per_level - 1);
}

// The level of a timer with key `due` when the time is `now`: its highest digit unlike now's.
uint32_t level_for(uint64_t due, uint64_t now) {
  assert(due > now);
  const uint32_t highest_bit = 63 - static_cast<uint32_t>(std::countl_zero(due ^ now));
  return highest_bit / TimingWheel::slot_bits;
}

uint16_t slot_number(uint32_t level, uint32_t slot) {
  return static_cast<uint16_t>(level * TimingWheel::slots_per_level + slot);
}

// Reallocates a bucket that holds much more memory than it needs: an empty one to nothing, a
// sparse one (thinned out by cancels) to twice its size. Amortised over the removals that
// made it sparse.
void shrink_bucket(IndexArray& bucket) { bucket.set_capacity(bucket.size() * 2); }

// The cheap test for the hot paths; the work is out of line.
inline void release_excess_capacity(IndexArray& bucket) {
  if (bucket.capacity() > bucket_capacity_kept_max && bucket.size() * 4 < bucket.capacity()) shrink_bucket(bucket);
}

}  // namespace

TimingWheel::TimingWheel(int64_t now_s, uint32_t timers_max)
    : now_key_(key_of(now_s)),
      timers_max_(timers_max),
      free_head_(nil),
      buckets_(overdue_bucket + 1),
      bucket_cancelled_(overdue_bucket + 1, 0),
      bucket_min_s_(overdue_bucket + 1, 0),
      bucket_min_stale_(overdue_bucket + 1, 0) {
  assert(timers_max > 0 && timers_max <= timers_max_limit);
}

TimingWheel::~TimingWheel() = default;

void TimingWheel::FreeChunk::operator()(Node* chunk) const { std::free(chunk); }

int64_t TimingWheel::now_s() const { return seconds_of(now_key_); }

uint32_t TimingWheel::chunk_timers() const { return std::min(pool_chunk_timers, timers_max_); }

uint64_t TimingWheel::pool_bytes() const { return uint64_t{chunks_.size()} * chunk_timers() * sizeof(Node); }

uint64_t TimingWheel::memory_bytes() const {
  uint64_t bucket_bytes = 0;
  for (const Bucket& bucket : buckets_) bucket_bytes += bucket.capacity() * sizeof(uint32_t);
  return sizeof(*this) + pool_bytes() + chunks_.capacity() * sizeof(chunks_[0]) +
         buckets_.capacity() * sizeof(Bucket) + bucket_bytes + bucket_cancelled_.capacity() * sizeof(uint32_t) +
         bucket_min_s_.capacity() * (sizeof(int64_t) + sizeof(uint8_t)) +
         (round_.capacity() + cascading_.capacity()) * sizeof(uint32_t);
}

// ---- The node pool ----------------------------------------------------------------------------

uint32_t TimingWheel::acquire_node() {
  if (free_head_ == nil && nodes_used_ == timers_max_ && cancelled_listed_ > 0) {
    compact_every_bucket();  // rare: only a pool full of live and cancelled nodes gets here
  }
  if (free_head_ != nil) {
    const uint32_t index = free_head_;
    free_head_ = static_cast<uint32_t>(node(index).payload);
    assert(node(index).where == place_free && node(index).generation != 0);
    return index;
  }
  if (nodes_used_ == timers_max_) return nil;
  if (nodes_used_ == chunks_.size() * uint64_t{pool_chunk_timers}) {
    // Trivial nodes are left uninitialised, so pages are touched only as nodes are used. Full
    // chunks start on a 2 MiB boundary, so that with transparent huge pages (the server's heap
    // setting, api/heap_tunables.h) they are whole huge pages: a cancel's random node read then
    // misses no TLB entry, and a chunk takes 3 page faults instead of 1,536. Measured at 10M
    // timers with huge pages: cancel 295 -> 108-134 ns, expiry 210 -> 79-96 ns per timer.
    // A wheel for fewer timers than a chunk holds gets one chunk of its own size.
    static_assert(pool_chunk_timers * sizeof(Node) % huge_page_bytes == 0, "full chunks are whole huge pages");
    const size_t chunk_bytes = size_t{chunk_timers()} * sizeof(Node);
    Node* memory = chunk_timers() == pool_chunk_timers
                       ? static_cast<Node*>(std::aligned_alloc(huge_page_bytes, chunk_bytes))
                       : static_cast<Node*>(std::malloc(chunk_bytes));
    std::unique_ptr<Node[], FreeChunk> chunk(memory);
    if (!chunk) return nil;
    chunks_.push_back(std::move(chunk));
  }
  const uint32_t index = nodes_used_++;
  node(index).generation = 1;
  node(index).cancelled = 0;
  return index;
}

void TimingWheel::release_node(uint32_t index) {
  Node& n = node(index);
  assert(n.where != place_free && pending_ > 0);
  n.where = place_free;
  --pending_;
  if (++n.generation == 0) return;  // retired: generation 0 is never handed out
  n.payload = free_head_;
  free_head_ = index;
}

// Gives back a node that was cancelled while listed; its generation was bumped then. The caller
// removes it from its bucket and from the bucket's count.
void TimingWheel::reclaim_cancelled_node(uint32_t index) {
  Node& n = node(index);
  assert(n.cancelled && n.where != place_free);
  n.where = place_free;
  n.cancelled = 0;
  if (n.generation == 0) return;  // retired
  n.payload = free_head_;
  free_head_ = index;
}

// The bucket's cancelled nodes have all been reclaimed.
void TimingWheel::forget_cancelled(uint16_t number) {
  assert(cancelled_listed_ >= bucket_cancelled_[number]);
  cancelled_listed_ -= bucket_cancelled_[number];
  bucket_cancelled_[number] = 0;
}

// Drops the cancelled nodes of a bucket, keeping its live ones; an emptied slot leaves the
// occupancy bitmap. O(bucket size), paid for by the cancels that made it necessary.
void TimingWheel::compact_bucket(uint16_t number) {
  Bucket& bucket = buckets_[number];
  size_t kept = 0;
  int64_t earliest = INT64_MAX;
  for (const uint32_t index : bucket) {
    if (node(index).cancelled) {
      reclaim_cancelled_node(index);
      continue;
    }
    earliest = std::min(earliest, node(index).due_s);
    bucket[kept++] = index;
  }
  bucket.truncate(static_cast<uint32_t>(kept));
  forget_cancelled(number);
  if (bucket.empty()) {
    if (number != overdue_bucket) occupied_[number / slots_per_level].reset(number % slots_per_level);
  } else {
    bucket_min_s_[number] = earliest;
    bucket_min_stale_[number] = 0;
  }
  release_excess_capacity(bucket);
}

void TimingWheel::compact_every_bucket() {
  for (uint16_t number = 0; number <= overdue_bucket && cancelled_listed_ > 0; ++number) {
    if (bucket_cancelled_[number] > 0) compact_bucket(number);
  }
  assert(cancelled_listed_ == 0);
}

const TimingWheel::Node* TimingWheel::live_node(TimerHandle handle) const {
  if (handle.index >= nodes_used_) return nullptr;
  const Node& n = node(handle.index);
  if (n.generation != handle.generation || n.where == place_free) return nullptr;
  assert(!n.cancelled);  // cancelling bumped its generation
  return &n;
}

// ---- Buckets: unordered arrays of node indices, cancelled ones marked until compacted ---------

void TimingWheel::bucket_push(uint16_t number, uint32_t index) {
  Bucket& bucket = buckets_[number];
  Node& n = node(index);
  if (bucket.empty()) {
    if (number != overdue_bucket) occupied_[number / slots_per_level].set(number % slots_per_level);
    bucket_min_stale_[number] = 0;
    bucket_min_s_[number] = n.due_s;
  } else if (n.due_s < bucket_min_s_[number]) {
    bucket_min_s_[number] = n.due_s;  // still a lower bound when stale; exact when not
  }
  n.where = number;
  bucket.push_back(index);
}

// Marks a listed node cancelled; compacts its bucket when cancelled nodes dominate it.
void TimingWheel::cancel_listed(uint32_t index) {
  Node& n = node(index);
  const uint16_t number = n.where;
  assert(number <= overdue_bucket && !n.cancelled);
  n.cancelled = 1;
  ++n.generation;  // the handle is stale from now on (0: retired when reclaimed)
  --pending_;
  ++cancelled_listed_;
  const uint32_t cancelled = ++bucket_cancelled_[number];
  const size_t live = buckets_[number].size() - cancelled;
  if (live == 0 || cancelled > live + slot_cancelled_slack) {
    compact_bucket(number);
  } else if (n.due_s == bucket_min_s_[number]) {
    bucket_min_stale_[number] = 1;
  }
}

// ---- Scheduling and cancelling ----------------------------------------------------------------

// Puts a node with its due_s set into the overdue bucket or the wheel slot its level names.
void TimingWheel::place(uint32_t index) {
  const uint64_t due = key_of(node(index).due_s);
  if (due <= now_key_) {
    bucket_push(overdue_bucket, index);
    return;
  }
  const uint32_t level = level_for(due, now_key_);
  bucket_push(slot_number(level, digit(due, level)), index);
}

std::optional<TimerHandle> TimingWheel::schedule(int64_t due_s, uint64_t payload) {
  if (pending_ == timers_max_) return std::nullopt;
  const uint32_t index = acquire_node();
  if (index == nil) return std::nullopt;
  Node& n = node(index);
  n.due_s = due_s;
  n.payload = payload;
  place(index);
  ++pending_;
  assert(pending_ <= timers_max_);
  return TimerHandle{index, n.generation};
}

bool TimingWheel::is_pending(TimerHandle handle) const { return live_node(handle) != nullptr; }

bool TimingWheel::cancel(TimerHandle handle) {
  if (handle.index >= nodes_used_) return false;
  const Node& n = node(handle.index);
  if (n.generation != handle.generation || n.where == place_free) return false;
  // A node in the firing round stays listed there; it is skipped once released.
  if (n.where == place_firing) {
    release_node(handle.index);
  } else {
    cancel_listed(handle.index);
  }
  return true;
}

void TimingWheel::clear() {
  compact_every_bucket();
  for (uint32_t index = 0; index < nodes_used_; ++index) {
    if (node(index).where != place_free) release_node(index);
  }
  assert(pending_ == 0);
  for (Bucket& bucket : buckets_) {
    bucket.clear();
    release_excess_capacity(bucket);
  }
  occupied_.fill(LevelBitmap{});
  round_.clear();
  round_cursor_ = 0;
}

// ---- Advancing and firing ---------------------------------------------------------------------

void TimingWheel::add_to_round(uint32_t index) {
  node(index).where = place_firing;
  round_.push_back(index);
}

// Moves every live node of the overdue bucket into the round, leaving the bucket empty.
void TimingWheel::take_overdue_into_round() {
  Bucket& bucket = buckets_[overdue_bucket];
  for (const uint32_t index : bucket) {
    if (node(index).cancelled) {
      reclaim_cancelled_node(index);
    } else {
      add_to_round(index);
    }
  }
  forget_cancelled(overdue_bucket);
  bucket.clear();
  release_excess_capacity(bucket);
}

void TimingWheel::sort_round() {
  assert(round_cursor_ == 0);
  std::sort(round_.begin(), round_.end(), [this](uint32_t a, uint32_t b) {
    const Node& x = node(a);
    const Node& y = node(b);
    return x.due_s != y.due_s ? x.due_s < y.due_s : x.payload < y.payload;
  });
}

std::optional<ExpiredTimer> TimingWheel::fire_from_round() {
  while (round_cursor_ < round_.size()) {
    const uint32_t index = round_[round_cursor_++];
    const Node& n = node(index);
    if (n.where != place_firing) continue;  // cancelled during this round
    const ExpiredTimer timer{n.payload, n.due_s};
    assert(key_of(timer.due_s) <= now_key_);
    release_node(index);  // before the caller sees it: it can never fire twice
    ++stats_.timers_fired;
    return timer;
  }
  round_.clear();
  round_cursor_ = 0;
  return std::nullopt;
}

std::optional<TimingWheel::Slot> TimingWheel::earliest_slot() const {
  for (uint32_t level = 0; level < levels; ++level) {
    const LevelBitmap& bitmap = occupied_[level];
    if (!bitmap.any()) continue;
    const uint32_t word = static_cast<uint32_t>(std::countr_zero(bitmap.summary));
    const uint32_t slot = word * 64 + static_cast<uint32_t>(std::countr_zero(bitmap.slots[word]));
    assert(slot > digit(now_key_, level));
    const uint32_t shift = level * slot_bits;
    const uint32_t above = shift + slot_bits;
    const uint64_t upper = above >= 64 ? 0 : (now_key_ >> above) << above;
    return Slot{level, slot, upper | (uint64_t{slot} << shift)};
  }
  return std::nullopt;
}

// Empties the slot the time has just reached: due timers join the round, the rest cascade.
void TimingWheel::expire_slot(const Slot& slot) {
  assert(slot.deadline_key == now_key_ && round_.empty() && cascading_.empty());
  const uint16_t number = slot_number(slot.level, slot.slot);
  cascading_.swap(buckets_[number]);
  occupied_[slot.level].reset(slot.slot);
  ++stats_.slots_expired;
  const size_t count = cascading_.size();
  for (size_t i = 0; i < count; ++i) {
    if (i + cascade_prefetch_nodes < count) __builtin_prefetch(&node(cascading_[i + cascade_prefetch_nodes]));
    const uint32_t index = cascading_[i];
    if (node(index).cancelled) {
      reclaim_cancelled_node(index);
      continue;
    }
    const uint64_t due = key_of(node(index).due_s);
    assert(due >= now_key_);
    if (due == now_key_) {
      add_to_round(index);
    } else {
      place(index);
      assert(node(index).where < number);  // always to a lower level
      ++stats_.timers_cascaded;
    }
  }
  forget_cancelled(number);
  cascading_.clear();
  release_excess_capacity(cascading_);
  sort_round();
}

std::optional<ExpiredTimer> TimingWheel::pop_expired(int64_t to_s) {
  const uint64_t to_key = std::max(key_of(to_s), now_key_);
  // Every pass either returns, or empties a slot: the loop ends after at most
  // (occupied slots + cascades) passes.
  for (;;) {
    if (std::optional<ExpiredTimer> timer = fire_from_round()) return timer;
    if (!buckets_[overdue_bucket].empty()) {
      take_overdue_into_round();
      sort_round();
      continue;
    }
    const std::optional<Slot> slot = earliest_slot();
    if (!slot || slot->deadline_key > to_key) {
      now_key_ = to_key;
      return std::nullopt;
    }
    now_key_ = slot->deadline_key;
    expire_slot(*slot);
  }
}

// ---- Queries ----------------------------------------------------------------------------------

int64_t TimingWheel::bucket_min_s(uint16_t number) const {
  const Bucket& bucket = buckets_[number];
  assert(!bucket.empty());
  if (bucket_min_stale_[number]) {
    int64_t earliest = INT64_MAX;  // also a real due time: the wheel's last second
    [[maybe_unused]] bool live_found = false;
    for (const uint32_t index : bucket) {
      if (node(index).cancelled) continue;
      earliest = std::min(earliest, node(index).due_s);
      live_found = true;
    }
    assert(live_found);  // a bucket left with no live timer is compacted to empty
    bucket_min_s_[number] = earliest;
    bucket_min_stale_[number] = 0;
  }
  return bucket_min_s_[number];
}

std::optional<int64_t> TimingWheel::next_due_s() const {
  std::optional<int64_t> earliest;
  // The round is sorted: its first live node is its earliest. Skipped nodes stay skipped.
  while (round_cursor_ < round_.size() && node(round_[round_cursor_]).where != place_firing) ++round_cursor_;
  if (round_cursor_ < round_.size()) earliest = node(round_[round_cursor_]).due_s;
  if (!buckets_[overdue_bucket].empty()) {
    const int64_t overdue_s = bucket_min_s(overdue_bucket);
    earliest = earliest ? std::min(*earliest, overdue_s) : overdue_s;
  }
  if (earliest) return earliest;  // overdue timers come before anything in the wheel
  const std::optional<Slot> slot = earliest_slot();
  if (!slot) return std::nullopt;
  return bucket_min_s(slot_number(slot->level, slot->slot));
}

bool TimingWheel::invariants_hold() const {
  uint64_t listed = 0;
  uint64_t cancelled_listed = 0;
  for (uint16_t number = 0; number <= overdue_bucket; ++number) {
    const Bucket& bucket = buckets_[number];
    const uint32_t level = number / slots_per_level;
    const uint32_t slot = number % slots_per_level;
    if (number != overdue_bucket) {
      if (occupied_[level].test(slot) != !bucket.empty()) return false;
      if (!bucket.empty() && slot <= digit(now_key_, level)) return false;
    }
    int64_t earliest = INT64_MAX;
    uint32_t cancelled = 0;
    for (const uint32_t index : bucket) {
      const Node& n = node(index);
      if (n.where != number) return false;
      if (n.cancelled) {
        ++cancelled;
        continue;
      }
      const uint64_t due = key_of(n.due_s);
      if (number == overdue_bucket) {
        if (due > now_key_) return false;
      } else if (due <= now_key_ || level_for(due, now_key_) != level || digit(due, level) != slot) {
        return false;
      }
      earliest = std::min(earliest, n.due_s);
      ++listed;
    }
    if (cancelled != bucket_cancelled_[number]) return false;
    if (!bucket.empty() && cancelled == bucket.size()) return false;  // no slot of cancelled nodes only
    if (cancelled > bucket.size() - cancelled + slot_cancelled_slack) return false;
    cancelled_listed += cancelled;
    const bool stale = bucket_min_stale_[number] != 0;
    if (!bucket.empty() && (stale ? bucket_min_s_[number] > earliest : bucket_min_s_[number] != earliest)) return false;
  }
  for (size_t i = round_cursor_; i < round_.size(); ++i) {
    if (node(round_[i]).where == place_firing) ++listed;
  }
  uint64_t in_use = 0;
  for (uint32_t index = 0; index < nodes_used_; ++index) {
    if (node(index).where != place_free) ++in_use;
  }
  return listed == pending_ && cancelled_listed == cancelled_listed_ && in_use == pending_ + cancelled_listed_;
}

}  // namespace tl
