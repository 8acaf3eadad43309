// The hierarchical timing wheel. How it is laid out, and why it is exact:
//
// Keys. A due second is mapped to an unsigned key by flipping the sign bit, which keeps order,
// so the whole int64 range (negative times included) is one unsigned range.
//
// Levels. The key is read as 11 digits of 6 bits (11 * 6 >= 64). A timer with key `due` >
// `now` lives at the level of the highest digit in which `due` and `now` differ, in the slot
// named by that digit of `due` (the scheme of Linux's and Tokio's timer wheels). So at level L
// every timer agrees with `now` on all digits above L and has a larger digit L than `now`:
// - every occupied slot of a level lies after now's digit, so the first set bit of the level's
//   bitmap is its next slot (no wrap-around), and
// - every timer at level L is earlier than every timer at a higher level, so the earliest timer
//   is in the first occupied slot of the lowest occupied level.
// A slot at level 0 holds exactly one second; a slot at level L covers 64^L seconds.
//
// Advancing. The time jumps straight to the first second covered by the earliest occupied slot
// (its deadline), never through empty seconds: a jump of 30 years with few timers costs a few
// bitmap scans. There the slot is emptied: timers due at that second join the firing round,
// the others cascade to a lower level (each timer cascades at most `levels - 1` times). Jumping
// to a second before the earliest deadline keeps every timer's placement valid, because all
// seconds between `now` and a slot's deadline share the digits above that slot's level.
//
// Firing. Timers due at or before `now` are fired in rounds: a round takes them all (the
// expired slot, the cascaded ones, the overdue list), sorts them by (due_s, payload) and hands
// them out one by one. Sorting at fire time is what makes the order independent of insertion
// and cascade history. A timer scheduled during a round with due_s <= now goes to the overdue
// list and forms the next round at the same second.
//
// Memory. Nodes are 32 bytes in chunks of 2^16, addressed by u32 index; freed nodes go on a
// LIFO free list. A node's generation is bumped when it is freed; a node whose generation would
// wrap to 0 is retired (never reused), so a stale handle can never alias a later timer.
#include "engine/timing_wheel.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <new>

namespace tl {
namespace {

constexpr uint32_t nil = UINT32_MAX;
// Places of a node besides a wheel slot (slot numbers are below levels * slots_per_level).
constexpr uint16_t place_free = 0xFFFF;
constexpr uint16_t place_due_list = 0xFFFE;
constexpr uint16_t place_firing = 0xFFFD;
constexpr uint64_t sign_bit = uint64_t{1} << 63;

static_assert(TimingWheel::levels * TimingWheel::slot_bits >= 64, "levels must cover 64 bits");
static_assert(TimingWheel::levels * TimingWheel::slots_per_level < place_firing, "slot numbers fit in u16");

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

}  // namespace

TimingWheel::TimingWheel(int64_t now_s, uint32_t timers_max)
    : now_key_(key_of(now_s)), timers_max_(timers_max), free_head_(nil), due_head_(nil) {
  assert(timers_max > 0 && timers_max <= timers_max_limit);
  slot_head_.fill(nil);
  slot_min_s_.fill(0);
}

TimingWheel::~TimingWheel() = default;

int64_t TimingWheel::now_s() const { return seconds_of(now_key_); }

uint64_t TimingWheel::pool_bytes() const { return uint64_t{chunks_.size()} * pool_chunk_timers * sizeof(Node); }

uint64_t TimingWheel::memory_bytes() const {
  return sizeof(*this) + pool_bytes() + chunks_.capacity() * sizeof(chunks_[0]) +
         round_.capacity() * sizeof(round_[0]);
}

// ---- The node pool ----------------------------------------------------------------------------

uint32_t TimingWheel::acquire_node() {
  if (free_head_ != nil) {
    const uint32_t index = free_head_;
    free_head_ = node(index).next;
    assert(node(index).where == place_free && node(index).generation != 0);
    return index;
  }
  if (nodes_used_ == timers_max_) return nil;
  if (nodes_used_ == chunks_.size() * uint64_t{pool_chunk_timers}) {
    // Trivial nodes are left uninitialised, so the pages are only touched as nodes are used.
    std::unique_ptr<Node[]> chunk(new (std::nothrow) Node[pool_chunk_timers]);
    if (!chunk) return nil;
    chunks_.push_back(std::move(chunk));
  }
  const uint32_t index = nodes_used_++;
  node(index).generation = 1;
  return index;
}

void TimingWheel::release_node(uint32_t index) {
  Node& n = node(index);
  assert(n.where != place_free && pending_ > 0);
  n.where = place_free;
  --pending_;
  if (++n.generation == 0) return;  // retired: generation 0 is never handed out
  n.next = free_head_;
  free_head_ = index;
}

const TimingWheel::Node* TimingWheel::live_node(TimerHandle handle) const {
  if (handle.index >= nodes_used_) return nullptr;
  const Node& n = node(handle.index);
  if (n.generation != handle.generation || n.where == place_free) return nullptr;
  return &n;
}

// ---- Intrusive doubly linked lists (wheel slots and the overdue list) ----------------------------

uint32_t& TimingWheel::list_head(uint16_t where) {
  assert(where == place_due_list || where < levels * slots_per_level);
  return where == place_due_list ? due_head_ : slot_head_[where];
}

void TimingWheel::list_push(uint16_t where, uint32_t index) {
  uint32_t& head = list_head(where);
  Node& n = node(index);
  n.where = where;
  n.prev = nil;
  n.next = head;
  if (head != nil) node(head).prev = index;
  head = index;
}

void TimingWheel::list_unlink(uint16_t where, uint32_t index) {
  uint32_t& head = list_head(where);
  Node& n = node(index);
  assert(n.where == where && head != nil);
  if (n.prev != nil) {
    node(n.prev).next = n.next;
  } else {
    head = n.next;
  }
  if (n.next != nil) node(n.next).prev = n.prev;
}

// ---- Scheduling and cancelling ----------------------------------------------------------------

// Puts a node with its due_s set into the overdue list or the wheel slot its level names.
void TimingWheel::place(uint32_t index) {
  Node& n = node(index);
  const uint64_t due = key_of(n.due_s);
  if (due <= now_key_) {
    if (due_head_ == nil) {
      due_min_s_ = n.due_s;
      due_min_stale_ = false;
    } else if (n.due_s < due_min_s_) {
      due_min_s_ = n.due_s;  // still a lower bound when stale; exact when not
    }
    list_push(place_due_list, index);
    return;
  }
  const uint32_t level = level_for(due, now_key_);
  const uint32_t slot = digit(due, level);
  const uint16_t number = slot_number(level, slot);
  const uint64_t slot_bit = uint64_t{1} << slot;
  if ((occupied_[level] & slot_bit) == 0) {
    occupied_[level] |= slot_bit;
    slot_min_stale_[level] &= ~slot_bit;
    slot_min_s_[number] = n.due_s;
  } else if (n.due_s < slot_min_s_[number]) {
    slot_min_s_[number] = n.due_s;  // still a lower bound when stale; exact when not
  }
  list_push(number, index);
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
  if (live_node(handle) == nullptr) return false;
  const uint32_t index = handle.index;
  const Node& n = node(index);
  if (n.where == place_due_list) {
    list_unlink(place_due_list, index);
    if (n.due_s == due_min_s_) due_min_stale_ = true;
  } else if (n.where != place_firing) {  // a node in the firing round is skipped once released
    const uint16_t number = n.where;
    const uint32_t level = number / slots_per_level;
    const uint64_t slot_bit = uint64_t{1} << (number % slots_per_level);
    list_unlink(number, index);
    if (slot_head_[number] == nil) {
      occupied_[level] &= ~slot_bit;
    } else if (n.due_s == slot_min_s_[number]) {
      slot_min_stale_[level] |= slot_bit;
    }
  }
  release_node(index);
  return true;
}

void TimingWheel::clear() {
  for (uint32_t index = 0; index < nodes_used_; ++index) {
    if (node(index).where != place_free) release_node(index);
  }
  assert(pending_ == 0);
  occupied_.fill(0);
  slot_min_stale_.fill(0);
  slot_head_.fill(nil);
  due_head_ = nil;
  due_min_stale_ = false;
  round_.clear();
  round_cursor_ = 0;
}

// ---- Advancing and firing ---------------------------------------------------------------------

void TimingWheel::add_to_round(uint32_t index) {
  node(index).where = place_firing;
  round_.push_back(index);
}

void TimingWheel::sort_round() {
  assert(round_cursor_ == 0);
  std::sort(round_.begin(), round_.end(), [this](uint32_t a, uint32_t b) {
    const Node& x = node(a);
    const Node& y = node(b);
    return x.due_s != y.due_s ? x.due_s < y.due_s : x.payload < y.payload;
  });
}

void TimingWheel::start_round_from_due_list() {
  assert(round_.empty() && due_head_ != nil);
  for (uint32_t index = due_head_; index != nil;) {
    const uint32_t next = node(index).next;
    add_to_round(index);
    index = next;
  }
  due_head_ = nil;
  due_min_stale_ = false;
  sort_round();
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
    if (occupied_[level] == 0) continue;
    const uint32_t slot = static_cast<uint32_t>(std::countr_zero(occupied_[level]));
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
  assert(slot.deadline_key == now_key_ && round_.empty());
  const uint16_t number = slot_number(slot.level, slot.slot);
  uint32_t index = slot_head_[number];
  slot_head_[number] = nil;
  occupied_[slot.level] &= ~(uint64_t{1} << slot.slot);
  ++stats_.slots_expired;
  while (index != nil) {
    const uint32_t next = node(index).next;
    const uint64_t due = key_of(node(index).due_s);
    assert(due >= now_key_);
    if (due == now_key_) {
      add_to_round(index);
    } else {
      place(index);
      assert(node(index).where < number);  // always to a lower level
      ++stats_.timers_cascaded;
    }
    index = next;
  }
  sort_round();
}

std::optional<ExpiredTimer> TimingWheel::pop_expired(int64_t to_s) {
  const uint64_t to_key = std::max(key_of(to_s), now_key_);
  // Every pass either returns, or empties a slot: the loop ends after at most
  // (occupied slots + cascades) passes.
  for (;;) {
    if (std::optional<ExpiredTimer> timer = fire_from_round()) return timer;
    if (due_head_ != nil) {
      start_round_from_due_list();
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

int64_t TimingWheel::slot_min_s(uint32_t number) const {
  const uint32_t level = number / slots_per_level;
  const uint64_t slot_bit = uint64_t{1} << (number % slots_per_level);
  assert(slot_head_[number] != nil);
  if (slot_min_stale_[level] & slot_bit) {
    int64_t earliest = node(slot_head_[number]).due_s;
    for (uint32_t index = slot_head_[number]; index != nil; index = node(index).next) {
      earliest = std::min(earliest, node(index).due_s);
    }
    slot_min_s_[number] = earliest;
    slot_min_stale_[level] &= ~slot_bit;
  }
  return slot_min_s_[number];
}

std::optional<int64_t> TimingWheel::next_due_s() const {
  std::optional<int64_t> earliest;
  // The round is sorted: its first live node is its earliest. Skipped nodes stay skipped.
  while (round_cursor_ < round_.size() && node(round_[round_cursor_]).where != place_firing) ++round_cursor_;
  if (round_cursor_ < round_.size()) earliest = node(round_[round_cursor_]).due_s;
  if (due_head_ != nil) {
    if (due_min_stale_) {
      due_min_s_ = node(due_head_).due_s;
      for (uint32_t index = due_head_; index != nil; index = node(index).next) {
        due_min_s_ = std::min(due_min_s_, node(index).due_s);
      }
      due_min_stale_ = false;
    }
    earliest = earliest ? std::min(*earliest, due_min_s_) : due_min_s_;
  }
  if (earliest) return earliest;  // overdue timers come before anything in the wheel
  const std::optional<Slot> slot = earliest_slot();
  if (!slot) return std::nullopt;
  return slot_min_s(slot_number(slot->level, slot->slot));
}

bool TimingWheel::invariants_hold() const {
  uint64_t listed = 0;
  for (uint32_t level = 0; level < levels; ++level) {
    for (uint32_t slot = 0; slot < slots_per_level; ++slot) {
      const uint16_t number = slot_number(level, slot);
      const bool occupied = (occupied_[level] >> slot) & 1;
      if (occupied != (slot_head_[number] != nil)) return false;
      if (!occupied) continue;
      if (slot <= digit(now_key_, level)) return false;
      int64_t earliest = INT64_MAX;
      uint32_t prev = nil;
      for (uint32_t index = slot_head_[number]; index != nil; index = node(index).next) {
        const Node& n = node(index);
        const uint64_t due = key_of(n.due_s);
        if (n.where != number || n.prev != prev || due <= now_key_) return false;
        if (level_for(due, now_key_) != level || digit(due, level) != slot) return false;
        earliest = std::min(earliest, n.due_s);
        prev = index;
        ++listed;
      }
      const bool stale = (slot_min_stale_[level] >> slot) & 1;
      if (stale ? slot_min_s_[number] > earliest : slot_min_s_[number] != earliest) return false;
    }
  }
  uint32_t prev = nil;
  for (uint32_t index = due_head_; index != nil; index = node(index).next) {
    const Node& n = node(index);
    if (n.where != place_due_list || n.prev != prev || key_of(n.due_s) > now_key_) return false;
    if (!due_min_stale_ && n.due_s < due_min_s_) return false;
    prev = index;
    ++listed;
  }
  for (size_t i = round_cursor_; i < round_.size(); ++i) {
    if (node(round_[i]).where == place_firing) ++listed;
  }
  uint64_t live = 0;
  for (uint32_t index = 0; index < nodes_used_; ++index) {
    if (node(index).where != place_free) ++live;
  }
  return listed == pending_ && live == pending_;
}

}  // namespace tl
