#pragma once
// The domain events of DESIGN section 3, as plain structs in one std::variant.
//
// Each struct lists its fields once, in canonical order, through `fields(self, visit)`; the codec
// (engine/event_codec) and the tests walk that list, so adding a field is a one-line change.
// Amounts are int64 minor units; instants are ms since the epoch. Money-moving events carry their
// postings (DESIGN section 4).
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "projections/actor.h"
#include "projections/money.h"
#include "projections/time.h"

namespace tl {

// One double-entry movement: `amount` leaves `debit` and arrives in `credit`, same currency.
struct Posting {
  std::string debit;
  std::string credit;
  int64_t amount = 0;
  Currency currency;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("debit", self.debit);
    visit("credit", self.credit);
    visit("amount", self.amount);
    visit("currency", self.currency);
  }
  friend bool operator==(const Posting&, const Posting&) = default;
};

struct BookingRequested {
  static constexpr std::string_view name = "BookingRequested";
  std::string booking_id;
  std::string student_id;
  std::string tutor_id;
  std::string subject;
  TimeMs scheduled_start = 0;
  int64_t duration_minutes = 0;
  Money price;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("student_id", self.student_id);
    visit("tutor_id", self.tutor_id);
    visit("subject", self.subject);
    visit("scheduled_start", self.scheduled_start);
    visit("duration_minutes", self.duration_minutes);
    visit("price", self.price);
  }
};

struct BookingAccepted {
  static constexpr std::string_view name = "BookingAccepted";
  std::string booking_id;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
  }
};

struct BookingDeclined {
  static constexpr std::string_view name = "BookingDeclined";
  std::string booking_id;
  std::string reason;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("reason", self.reason);
  }
};

struct BookingCancelled {
  static constexpr std::string_view name = "BookingCancelled";
  std::string booking_id;
  std::string reason;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("reason", self.reason);
  }
};

struct BookingExpired {
  static constexpr std::string_view name = "BookingExpired";
  std::string booking_id;
  std::string stage;  // "request" (never accepted) or "payment" (accepted, never paid)
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("stage", self.stage);
  }
};

// The student asked to pay: the booking gets the reference the payment provider will echo back.
struct CheckoutOpened {
  static constexpr std::string_view name = "CheckoutOpened";
  std::string booking_id;
  std::string tx_ref;
  Money amount;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("tx_ref", self.tx_ref);
    visit("amount", self.amount);
  }
};

struct PaymentCaptured {
  static constexpr std::string_view name = "PaymentCaptured";
  std::string booking_id;
  std::string tx_ref;
  std::string reference;  // the provider's id of the charge
  Money amount;
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("tx_ref", self.tx_ref);
    visit("reference", self.reference);
    visit("amount", self.amount);
    visit("postings", self.postings);
  }
};

struct PaymentRejected {
  static constexpr std::string_view name = "PaymentRejected";
  std::string booking_id;
  std::string tx_ref;
  std::string reference;
  std::string reason;  // "amount_mismatch", "currency_mismatch", "booking_not_payable", ...
  // The charge as the provider reported it, byte for byte (a decimal string such as "349.00" and
  // a currency code): what the provider may have taken although the ledger did not capture it.
  // Empty in events of schema 1, which did not record them (engine/event_codec.h).
  std::string provider_amount;
  std::string provider_currency;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("tx_ref", self.tx_ref);
    visit("reference", self.reference);
    visit("reason", self.reason);
    visit("provider_amount", self.provider_amount);
    visit("provider_currency", self.provider_currency);
  }
};

struct EscrowHeld {
  static constexpr std::string_view name = "EscrowHeld";
  std::string booking_id;
  Money amount;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("amount", self.amount);
  }
};

struct SessionStarted {
  static constexpr std::string_view name = "SessionStarted";
  std::string booking_id;
  std::string channel;  // the video channel, stable per booking
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("channel", self.channel);
  }
};

struct SessionJoined {
  static constexpr std::string_view name = "SessionJoined";
  std::string booking_id;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
  }
};

// `ended_at` is the command's time when a party ends the session, and the auto-end deadline when
// the timer does (so a timer that fires late does not delay the escrow release).
struct SessionEnded {
  static constexpr std::string_view name = "SessionEnded";
  std::string booking_id;
  TimeMs ended_at = 0;
  std::string notes;
  int64_t duration_seconds = 0;
  std::string cause;  // "ended" (by a party) or "auto_end" (the timer)
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("ended_at", self.ended_at);
    visit("notes", self.notes);
    visit("duration_seconds", self.duration_seconds);
    visit("cause", self.cause);
  }
};

struct BookingNoShow {
  static constexpr std::string_view name = "BookingNoShow";
  std::string booking_id;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
  }
};

// The amounts the release will pay are fixed here, when the hold starts, so that a fee policy
// change during the hold cannot change what was promised.
struct EscrowReleaseScheduled {
  static constexpr std::string_view name = "EscrowReleaseScheduled";
  std::string booking_id;
  TimeMs release_at = 0;
  int64_t tutor_amount = 0;
  int64_t fee_amount = 0;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("release_at", self.release_at);
    visit("tutor_amount", self.tutor_amount);
    visit("fee_amount", self.fee_amount);
  }
};

struct EscrowReleased {
  static constexpr std::string_view name = "EscrowReleased";
  std::string booking_id;
  int64_t tutor_amount = 0;
  int64_t fee_amount = 0;
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("tutor_amount", self.tutor_amount);
    visit("fee_amount", self.fee_amount);
    visit("postings", self.postings);
  }
};

struct EscrowRefunded {
  static constexpr std::string_view name = "EscrowRefunded";
  std::string booking_id;
  int64_t amount = 0;
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("amount", self.amount);
    visit("postings", self.postings);
  }
};

struct DisputeOpened {
  static constexpr std::string_view name = "DisputeOpened";
  std::string booking_id;
  std::string reason;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("reason", self.reason);
  }
};

struct DisputeResolved {
  static constexpr std::string_view name = "DisputeResolved";
  std::string booking_id;
  int64_t refund_amount = 0;
  int64_t tutor_amount = 0;
  int64_t fee_amount = 0;
  std::string outcome;  // "released" (nothing refunded), "refunded" (all), "split"
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("refund_amount", self.refund_amount);
    visit("tutor_amount", self.tutor_amount);
    visit("fee_amount", self.fee_amount);
    visit("outcome", self.outcome);
    visit("postings", self.postings);
  }
};

struct SessionRated {
  static constexpr std::string_view name = "SessionRated";
  std::string booking_id;
  std::string tutor_id;
  int64_t stars = 0;
  std::string comment;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("tutor_id", self.tutor_id);
    visit("stars", self.stars);
    visit("comment", self.comment);
  }
};

struct WithdrawalRequested {
  static constexpr std::string_view name = "WithdrawalRequested";
  std::string withdrawal_id;
  std::string tutor_id;
  Money amount;
  std::string destination;
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("withdrawal_id", self.withdrawal_id);
    visit("tutor_id", self.tutor_id);
    visit("amount", self.amount);
    visit("destination", self.destination);
    visit("postings", self.postings);
  }
};

struct WithdrawalCompleted {
  static constexpr std::string_view name = "WithdrawalCompleted";
  std::string withdrawal_id;
  std::string tutor_id;
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("withdrawal_id", self.withdrawal_id);
    visit("tutor_id", self.tutor_id);
    visit("postings", self.postings);
  }
};

struct WithdrawalFailed {
  static constexpr std::string_view name = "WithdrawalFailed";
  std::string withdrawal_id;
  std::string tutor_id;
  std::string reason;
  std::vector<Posting> postings;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("withdrawal_id", self.withdrawal_id);
    visit("tutor_id", self.tutor_id);
    visit("reason", self.reason);
    visit("postings", self.postings);
  }
};

using EventData =
    std::variant<BookingRequested, BookingAccepted, BookingDeclined, BookingCancelled, BookingExpired, CheckoutOpened,
                 PaymentCaptured, PaymentRejected, EscrowHeld, SessionStarted, SessionJoined, SessionEnded,
                 BookingNoShow, EscrowReleaseScheduled, EscrowReleased, EscrowRefunded, DisputeOpened,
                 DisputeResolved, SessionRated, WithdrawalRequested, WithdrawalCompleted, WithdrawalFailed>;

// A domain event with the envelope fields the projections use.
struct Event {
  uint64_t position = 0;
  std::string stream;
  uint32_t version = 0;
  TimeMs at = 0;
  Actor actor;
  std::string command_id;
  EventData data;
};

std::string_view event_name(const EventData& data);
// "escrow_released" for EscrowReleased: notification types and readable output.
std::string snake_case(std::string_view event_name);
// The postings an event carries (empty for events that move no money).
const std::vector<Posting>& postings_of(const EventData& data);
// The booking an event belongs to, or empty for withdrawal events.
std::string_view booking_id_of(const EventData& data);
// The withdrawal an event belongs to, or empty for booking events.
std::string_view withdrawal_id_of(const EventData& data);

// Stream names (DESIGN section 2).
std::string booking_stream(std::string_view booking_id);
std::string tutor_stream(std::string_view tutor_id);

// Account names (DESIGN section 4).
namespace accounts {
inline constexpr std::string_view psp = "external:psp";
inline constexpr std::string_view refunds = "external:refunds";
inline constexpr std::string_view payouts = "external:payouts";
inline constexpr std::string_view fees = "platform:fees";
std::string escrow(std::string_view booking_id);
std::string tutor(std::string_view tutor_id);
std::string tutor_withdrawing(std::string_view tutor_id);
// Accounts that must never go negative: tutor:* (both kinds) and escrow:*.
bool must_not_go_negative(std::string_view account);
}  // namespace accounts

}  // namespace tl
