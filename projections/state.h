#pragma once
// The projections: everything the product shows, derived only from the log by `evolve`.
//
// Bookings and withdrawals live in deques in log order (stable addresses, canonical order for
// hashing); indexes map ids to positions. Notifications are compact references rendered on read,
// so that a booking costs well under 1 KiB of memory.
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "projections/actor.h"
#include "projections/booking_names.h"
#include "projections/compact_fields.h"
#include "projections/events.h"
#include "projections/flat_string_map.h"
#include "projections/id_index.h"
#include "projections/money.h"
#include "projections/time.h"

namespace tl {

enum class BookingStatus : uint8_t { requested, accepted, confirmed, in_session, completed, cancelled, declined, expired, no_show };
enum class EscrowStatus : uint8_t { none, held, release_scheduled, disputed, released, refunded, split };
enum class WithdrawalStatus : uint8_t { requested, completed, failed };

std::string_view status_name(BookingStatus status);
std::string_view status_name(EscrowStatus status);
std::string_view status_name(WithdrawalStatus status);
std::optional<BookingStatus> parse_booking_status(std::string_view name);

// Where a text derived from the booking id (payment_ref, channel) comes from.
enum class DerivedText : uint8_t {
  none,     // not set yet
  derived,  // what booking_names.h gives for the id (always, for events decide() made)
  stored,   // something else, kept in the booking as the log said it
};

// Fields are ordered by size (no padding) and kept narrow: a million bookings live in memory.
// Optional values are OptionalInt64 (8 bytes, "none" renders as null); texts that are mostly
// empty or long are CompactText; payment_ref and channel are derived from the id, not stored.
struct Booking {
  std::string id;
  std::string student_id;
  std::string tutor_id;
  std::string subject;
  Money price;
  TimeMs scheduled_start = 0;
  TimeMs created_at = 0;

  // session
  OptionalInt64 started_at;
  OptionalInt64 ended_at;
  OptionalInt64 duration_seconds;

  // escrow
  OptionalInt64 held_at;
  OptionalInt64 release_at;   // "release_scheduled_at" in the contract
  OptionalInt64 released_at;  // when the escrow was paid out or refunded
  OptionalInt64 tutor_amount;
  OptionalInt64 fee_amount;
  OptionalInt64 refunded_amount;
  // What EscrowReleaseScheduled announced to the tutor. A dispute's resolution changes
  // tutor_amount later, and the notification of the scheduled release must keep its own figure.
  OptionalInt64 scheduled_release_amount;

  CompactText notes;           // empty = none
  CompactText dispute_reason;
  CompactText rating_comment;

 private:  // (here, not at the end: the fields are ordered by size)
  CompactText payment_ref_stored_;  // only when payment_ref_source_ is stored
  CompactText channel_stored_;      // only when channel_source_ is stored

 public:
  uint32_t version = 0;           // version of the booking's stream
  int32_t duration_minutes = 0;   // the contract bounds it (15 to 240)
  BookingStatus status = BookingStatus::requested;
  EscrowStatus escrow_status = EscrowStatus::none;
  bool session_active = false;
  uint8_t rating_stars = 0;       // 0 = not rated; the contract bounds it (1 to 5)

 private:
  DerivedText payment_ref_source_ = DerivedText::none;
  DerivedText channel_source_ = DerivedText::none;

 public:

  TimeMs scheduled_end() const { return scheduled_start + duration_minutes * ms_per_minute; }

  // tx_ref once checkout opened, else empty.
  std::string payment_ref() const { return derived_text(payment_ref_source_, payment_ref_stored_, &checkout_tx_ref); }
  bool has_payment_ref() const { return payment_ref_source_ != DerivedText::none; }
  void set_payment_ref(std::string_view tx_ref) {
    set_derived_text(tx_ref, is_checkout_tx_ref(tx_ref, id), &payment_ref_source_, &payment_ref_stored_);
  }
  // The video channel once the session started, else empty.
  std::string channel() const { return derived_text(channel_source_, channel_stored_, &session_channel); }
  void set_channel(std::string_view channel) {
    set_derived_text(channel, is_session_channel(channel, id), &channel_source_, &channel_stored_);
  }

 private:
  std::string derived_text(DerivedText source, const CompactText& stored, std::string (*derive)(std::string_view)) const {
    switch (source) {
      case DerivedText::none: return {};
      case DerivedText::derived: return derive(id);
      case DerivedText::stored: return std::string(stored.view());
    }
    return {};
  }
  static void set_derived_text(std::string_view text, bool is_derived, DerivedText* source, CompactText* stored) {
    *source = text.empty() ? DerivedText::none : is_derived ? DerivedText::derived : DerivedText::stored;
    *stored = *source == DerivedText::stored ? text : std::string_view();
  }
};

struct Withdrawal {
  std::string id;
  std::string tutor_id;
  Money amount;
  std::string destination;
  WithdrawalStatus status = WithdrawalStatus::requested;
  TimeMs requested_at = 0;
  std::optional<TimeMs> completed_at;  // when it completed or failed
  std::string failure_reason;
};

// A notification refers to the event that caused it; its text is rendered when read. 20 bytes
// (packed to 4-byte alignment, the event kind in the position's top byte): a booking's journey
// leaves about nine of them.
constexpr uint64_t notification_position_max = (uint64_t{1} << 56) - 1;  // evolve refuses later events

#pragma pack(push, 4)
struct Notification {
  uint64_t position : 56 = 0;   // the event's position: also the notification's id and list cursor
  uint64_t event_kind : 8 = 0;  // EventData::index() of the event
  TimeMs at = 0;
  uint32_t subject = 0;         // booking index, or withdrawal index for withdrawal events
};
#pragma pack(pop)
static_assert(sizeof(Notification) == 20);

struct Tutor {
  uint32_t stream_version = 0;  // version of "tutor-<id>"
  int64_t rating_sum = 0;
  int64_t rating_count = 0;
  // Net amounts the tutor will receive from escrows in release_scheduled, per currency.
  std::vector<std::pair<Currency, int64_t>> pending_release;
};

// What became of a payment provider's charge (by its reference), for repeat deliveries.
// One per captured or rejected payment: 16 bytes (a hash-map node of 64 with its key).
struct PaymentRecord {
  uint32_t booking = 0;  // booking index
  bool accepted = false;
  CompactText reason;    // empty when accepted
};

// Hashes std::string keys and string_views alike (for std::unordered_set of strings).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
// The state's maps: searched with a string_view without allocating (flat_string_map.h).
template <class T>
using StringMap = FlatStringMap<T>;

// An account's non-zero balances, one per currency (almost always exactly one).
using CurrencyBalances = std::vector<std::pair<Currency, int64_t>>;

struct State {
  std::deque<Booking> bookings;        // log order
  IdIndex booking_index;               // bookings[i].id -> i
  std::deque<Withdrawal> withdrawals;
  IdIndex withdrawal_index;            // withdrawals[i].id -> i
  StringMap<std::vector<uint32_t>> bookings_by_student;
  StringMap<std::vector<uint32_t>> bookings_by_tutor;
  StringMap<std::vector<uint32_t>> withdrawals_by_tutor;
  StringMap<Tutor> tutors;
  // Balance = credits - debits, per account and currency. Zero balances are absent.
  StringMap<CurrencyBalances> balances;
  // By user id, one map per role: a user is a role and an id (as on every booking route), so a
  // student "t1" never reads what tutor "t1" was told. Admins get no notifications.
  StringMap<std::vector<Notification>> student_notifications;
  StringMap<std::vector<Notification>> tutor_notifications;
  StringMap<PaymentRecord> payments;                   // by provider reference
  uint64_t position = 0;  // position of the last event applied
  TimeMs last_event_at = 0;

  State() = default;
  // Indexes hold views into the deques, so a copy must rebuild them.
  State(const State& other);
  State& operator=(const State& other);
  State(State&&) = default;
  State& operator=(State&&) = default;

  // The notification lists of users of `role` (student or tutor; asserted).
  StringMap<std::vector<Notification>>& notifications_of(Role role);
  const StringMap<std::vector<Notification>>& notifications_of(Role role) const;

  // Adds an index entry for the last booking (withdrawal); false if its id was there already.
  bool index_last_booking();
  bool index_last_withdrawal();
  std::optional<uint32_t> find_booking_index(std::string_view id) const;
  std::optional<uint32_t> find_withdrawal_index(std::string_view id) const;
  const Booking* find_booking(std::string_view id) const;
  Booking* find_booking(std::string_view id);
  const Withdrawal* find_withdrawal(std::string_view id) const;
  const Tutor* find_tutor(std::string_view id) const;
  int64_t balance(std::string_view account, const Currency& currency) const;
  uint32_t index_of(const Booking& booking) const;

  // Rebuilds the id indexes from the deques (after a copy or a checkpoint load).
  void rebuild_indexes();
};

}  // namespace tl
