#pragma once
// Commands: what actors ask for. `decide` turns each into events or a rejection. Every field a
// command carries is already typed (the API parsed the JSON); `decide` validates the values.
#include <cstdint>
#include <string>
#include <variant>

#include "projections/actor.h"
#include "projections/money.h"
#include "projections/pending_timer.h"
#include "projections/time.h"

namespace tl {

struct RequestBooking {
  std::string booking_id;  // chosen by the caller (random), checked for collisions
  std::string tutor_id;
  std::string subject;
  TimeMs scheduled_start = 0;
  int64_t duration_minutes = 0;
  Money price;
};
struct AcceptBooking { std::string booking_id; };
struct DeclineBooking { std::string booking_id; std::string reason; };
struct CancelBooking { std::string booking_id; std::string reason; };
struct Checkout { std::string booking_id; };
// From the payment webhook: amount and currency exactly as the provider sent them.
struct CapturePayment { std::string tx_ref; std::string reference; std::string amount; std::string currency; };
// The provider reports a failed charge.
struct RejectPayment { std::string tx_ref; std::string reference; std::string reason; std::string amount; std::string currency; };
struct StartSession { std::string booking_id; };
struct JoinSession { std::string booking_id; };
struct EndSession { std::string booking_id; std::string notes; };
struct RateSession { std::string booking_id; int64_t stars = 0; std::string comment; };
struct OpenDispute { std::string booking_id; std::string reason; };
struct ResolveDispute { std::string booking_id; int64_t refund_amount = 0; };
struct RequestWithdrawal { std::string withdrawal_id; Money amount; std::string destination; };
struct CompleteWithdrawal { std::string withdrawal_id; };
struct FailWithdrawal { std::string withdrawal_id; std::string reason; };
// Timer commands (actor: system). Each re-checks the state: a timer that fires twice, or after
// the state moved on, decides nothing.
struct TimerFired { TimerKind kind; std::string booking_id; };

using CommandBody =
    std::variant<RequestBooking, AcceptBooking, DeclineBooking, CancelBooking, Checkout, CapturePayment, RejectPayment,
                 StartSession, JoinSession, EndSession, RateSession, OpenDispute, ResolveDispute, RequestWithdrawal,
                 CompleteWithdrawal, FailWithdrawal, TimerFired>;

struct Command {
  Actor actor;
  TimeMs now = 0;          // stamped by the engine's writer from its clock
  std::string command_id;  // recorded in every event the command produces
  CommandBody body;
};

std::string_view command_name(const CommandBody& body);
// The booking a command is about, or empty (payments name it by tx_ref, withdrawals have none).
std::string_view booking_id_of(const CommandBody& body);

}  // namespace tl
