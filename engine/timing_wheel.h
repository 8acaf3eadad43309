#pragma once
// A hierarchical timing wheel (Varghese & Lauck) with one-second resolution: the engine's writer
// uses it to emit timed domain events (escrow release 24 h after a session, no-show, auto-end,
// booking expiry). DESIGN.md section 5. How it works is described at the top of timing_wheel.cpp.
//
// NOT THREAD-SAFE, by design: the engine's single writer thread owns the wheel, so every call
// (including the ones made from inside a `fire` callback) comes from that thread. No locks.
//
// Times are absolute int64 seconds since the epoch; the whole int64 range is accepted (negative
// and far-future due times included). Guarantees:
// - schedule and cancel are O(1) (amortised: a bucket array may grow, shrink or be compacted);
//   expiring is O(1) per timer amortised over at most `levels - 1` cascades, plus sorting the k
//   timers due in the same second (O(log k) each). A timer never fires before its due second,
//   and never fires twice.
// - advance(to_s) fires every timer with due_s <= to_s in (due_s, payload) order, whatever the
//   order of insertion, the cascade history or the size of the advance steps: rebuilding the
//   wheel from state after a restart fires in the same order as a run without restart.
// - Stale handles are harmless: cancelling a fired or already-cancelled timer returns false.
// - Cancelling is lazy: the node is marked (its handle goes stale at once) and stays listed in its
//   slot until the slot expires, or until the cancelled nodes of that slot outnumber its live
//   ones by more than `slot_cancelled_slack`, which compacts the slot (work amortised over those
//   cancels). One node write instead of a swap-remove that touches three cache lines.
// - Memory: a 24-byte node per timer in a pool of u32-indexed nodes grown in 6 MiB chunks up to
//   `timers_max`, plus a 4-byte index in its slot's bucket. Cancelled nodes not yet given back are at most the live ones plus
//   `slot_cancelled_slack` per slot, so the pool holds at most 2 x pending + 2049 x 64 nodes.
//   When the pool is full, schedule first takes back every cancelled node, then returns nullopt
//   instead of growing. The pool is a high-water mark: nodes freed by firing or cancelling are
//   reused, not returned.
//   (A failed pool chunk allocation is the nullopt above; bucket arrays grow with realloc (IndexArray),
//   whose rare std::bad_alloc is left to end the process like any other allocation failure.)
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/index_array.h"

namespace tl {

// Names one scheduled timer. The generation makes a handle go stale once its timer has fired or
// been cancelled, even after its node is reused by another timer.
struct TimerHandle {
  uint32_t index = UINT32_MAX;
  uint32_t generation = 0;  // never 0 for a handle that schedule returned
  friend bool operator==(const TimerHandle&, const TimerHandle&) = default;
};

struct ExpiredTimer {
  uint64_t payload = 0;
  int64_t due_s = 0;
};

// Counters that show how much work the wheel did (tests use them to prove it skips empty time).
struct TimingWheelStats {
  uint64_t slots_expired = 0;    // wheel slots reached and emptied by advancing
  uint64_t timers_cascaded = 0;  // timers moved from a slot to a lower level
  uint64_t timers_fired = 0;
};

class TimingWheel {
 public:
  // 256 slots per level: on the bench workload (timers over 7 days, half cancelled) 64 slots
  // cascaded more and 1024 slots made cancels slower (more, colder buckets); 256 was fastest.
  static constexpr uint32_t slot_bits = 8;
  static constexpr uint32_t slots_per_level = 1u << slot_bits;
  // Enough levels to cover all 64 bits of a due time (8 x 8): no overflow list is needed.
  static constexpr uint32_t levels = (64 + slot_bits - 1) / slot_bits;
  // Node indices are u32 and UINT32_MAX means "none".
  static constexpr uint32_t timers_max_limit = UINT32_MAX - 1;
  // The pool grows by chunks of this many nodes (6 MiB: three 2 MiB huge pages), so growth never
  // copies nodes. A wheel with a smaller timers_max has one chunk of timers_max nodes.
  static constexpr uint32_t pool_chunk_timers_bits = 18;
  static constexpr uint32_t pool_chunk_timers = 1u << pool_chunk_timers_bits;
  // A slot is compacted when its cancelled nodes outnumber its live ones by more than this.
  static constexpr uint32_t slot_cancelled_slack = 64;

  // `timers_max` caps the pending timers (the engine passes its bookings limit: it schedules at
  // most one timer per booking). Memory is taken in chunks as timers arrive, never up front.
  TimingWheel(int64_t now_s, uint32_t timers_max);
  TimingWheel(const TimingWheel&) = delete;
  TimingWheel& operator=(const TimingWheel&) = delete;
  // A moved-from wheel may only be destroyed or assigned to.
  TimingWheel(TimingWheel&&) = default;
  TimingWheel& operator=(TimingWheel&&) = default;
  ~TimingWheel();

  // Schedules `payload` to fire at `due_s`. A due_s <= now_s() fires at the next advance, with
  // the other overdue timers, in due order. nullopt when `timers_max` timers are pending (or
  // the memory for a new pool chunk cannot be had): the caller must treat that as an error.
  std::optional<TimerHandle> schedule(int64_t due_s, uint64_t payload);

  // Cancels a pending timer: true if it was pending, false for a fired, cancelled or default
  // handle (a harmless no-op). May be called from inside `fire`, for any timer. O(1): the node
  // is marked, and given back when its slot expires or is compacted.
  bool cancel(TimerHandle handle);
  bool is_pending(TimerHandle handle) const;

  // Moves the current time to max(now_s(), to_s) and fires, in order, every timer due by then,
  // calling fire(payload, due_s) for each; returns the number fired. Order: by (due_s, payload).
  // Inside `fire` the wheel's now_s() is the second being fired, and the callback may schedule
  // and cancel timers freely:
  // - a new timer due after that second but no later than to_s fires later in this advance, in
  //   its place in due order;
  // - a new timer due at or before that second also fires in this advance, in a further round
  //   for that second after the round being fired (it cannot be fired in the past), ordered by
  //   (due_s, payload) within its round; it never fires twice.
  // A callback that schedules an already-due timer every time it runs keeps this loop going:
  // a caller that needs a bound on the work per call uses pop_expired directly.
  template <class Fire>
  uint64_t advance(int64_t to_s, Fire&& fire) {
    uint64_t fired = 0;
    while (const std::optional<ExpiredTimer> timer = pop_expired(to_s)) {
      fire(timer->payload, timer->due_s);
      ++fired;
    }
    return fired;
  }

  // The step that advance repeats: removes and returns the next timer due by max(now_s(), to_s),
  // or returns nullopt after moving the current time there. Lets the writer bound the timers it
  // handles per loop turn; calls with any to_s may be interleaved with schedule and cancel.
  std::optional<ExpiredTimer> pop_expired(int64_t to_s);

  // The exact earliest due second among pending timers (at or before now_s() if some are
  // overdue), so the writer can sleep until then. Bitmap scans plus a cached minimum per slot;
  // after the earliest timer of a slot is cancelled, the next query rescans that one slot.
  std::optional<int64_t> next_due_s() const;

  int64_t now_s() const;
  uint64_t size() const { return pending_; }
  bool empty() const { return pending_ == 0; }
  uint32_t timers_max() const { return timers_max_; }

  // Cancels every pending timer (their handles go stale); the pool keeps its memory for reuse.
  // now_s() does not change.
  void clear();

  // Bytes held by the node pool (allocated chunks: a high-water mark, it does not shrink).
  uint64_t pool_bytes() const;
  // Everything the wheel holds: pool, chunk table, slot arrays, the firing round.
  uint64_t memory_bytes() const;
  const TimingWheelStats& stats() const { return stats_; }

  // Walks every bucket and node and checks the structure. O(buckets + pool); for tests.
  bool invariants_hold() const;

 private:
  // One pending, cancelled-but-listed or free timer: 24 bytes.
  struct Node {
    int64_t due_s;
    uint64_t payload;     // while free: the index of the next free node
    uint32_t generation;  // bumped when the timer fires or is cancelled
    uint16_t where;       // a bucket number, or place_firing / place_free
    uint8_t cancelled;    // 1: cancelled, still listed in bucket `where` until it is compacted
    uint8_t unused;
  };
  static_assert(sizeof(Node) == 24, "the memory bound counts on 24-byte nodes");
  // Which slots of one level hold timers: a bit per slot, and a summary bit per word.
  struct LevelBitmap {
    static constexpr uint32_t words = slots_per_level / 64;
    uint64_t summary = 0;
    std::array<uint64_t, words> slots{};
    bool any() const { return summary != 0; }
    bool test(uint32_t slot) const { return (slots[slot / 64] >> (slot % 64)) & 1; }
    void set(uint32_t slot) {
      slots[slot / 64] |= uint64_t{1} << (slot % 64);
      summary |= uint64_t{1} << (slot / 64);
    }
    void reset(uint32_t slot) {
      slots[slot / 64] &= ~(uint64_t{1} << (slot % 64));
      if (slots[slot / 64] == 0) summary &= ~(uint64_t{1} << (slot / 64));
    }
  };
  static_assert(slots_per_level >= 64 && slots_per_level <= 64 * 64, "one summary word per level");
  struct Slot {
    uint32_t level;
    uint32_t slot;
    uint64_t deadline_key;  // the first second the slot covers
  };
  using Bucket = IndexArray;  // node indices (live and cancelled), in no particular order

  Node& node(uint32_t index) { return chunks_[index >> pool_chunk_timers_bits][index & (pool_chunk_timers - 1)]; }
  const Node& node(uint32_t index) const {
    return chunks_[index >> pool_chunk_timers_bits][index & (pool_chunk_timers - 1)];
  }
  uint32_t chunk_timers() const;  // nodes per pool chunk
  const Node* live_node(TimerHandle handle) const;
  uint32_t acquire_node();
  void release_node(uint32_t index);
  void reclaim_cancelled_node(uint32_t index);
  void forget_cancelled(uint16_t number);
  void compact_bucket(uint16_t number);
  void compact_every_bucket();

  void place(uint32_t index);
  void bucket_push(uint16_t number, uint32_t index);
  void cancel_listed(uint32_t index);
  void add_to_round(uint32_t index);
  void take_overdue_into_round();
  void sort_round();
  std::optional<ExpiredTimer> fire_from_round();
  std::optional<Slot> earliest_slot() const;
  void expire_slot(const Slot& slot);
  int64_t bucket_min_s(uint16_t number) const;

  uint64_t now_key_;  // the current time as an order-preserving unsigned key
  uint32_t timers_max_;
  uint32_t nodes_used_ = 0;  // high-water mark of nodes handed out from the chunks
  uint32_t free_head_;
  uint64_t pending_ = 0;
  uint64_t cancelled_listed_ = 0;  // cancelled nodes still listed in a bucket (all buckets)
  struct FreeChunk {
    void operator()(Node* chunk) const;
  };
  std::vector<std::unique_ptr<Node[], FreeChunk>> chunks_;

  // Buckets by number: level * slots_per_level + slot for the wheel's slots, then one more for
  // the overdue timers (scheduled with due_s <= now), which start the next firing round.
  std::vector<Bucket> buckets_;
  std::vector<uint32_t> bucket_cancelled_;  // cancelled nodes listed in each bucket
  // A bit is set while its slot holds at least one live timer (a slot left with only cancelled
  // nodes is compacted to empty at once).
  std::array<LevelBitmap, levels> occupied_{};
  // Earliest due second in each bucket, for next_due_s; stale means "recompute on demand" (set
  // when the earliest timer of a bucket is cancelled).
  mutable std::vector<int64_t> bucket_min_s_;
  mutable std::vector<uint8_t> bucket_min_stale_;

  // The round being fired: node indices sorted by (due_s, payload). A node cancelled during the
  // round leaves the `firing` place and is skipped. Holds at most `timers_max` indices.
  std::vector<uint32_t> round_;
  mutable size_t round_cursor_ = 0;
  Bucket cascading_;  // the slot being emptied, swapped out of its place

  TimingWheelStats stats_;
};

}  // namespace tl
