#pragma once
// An event's `data` object as the HTTP contract shows it (../shared/API.md, Conventions): every
// instant as RFC 3339 UTC and every amount as a money object. The log stores instants as ms since
// the epoch and some amounts bare (the canonical bytes the hash chain covers); this view is for
// HTTP only, the stored bytes stay as they are.
//
// The rule is by field name, so that new event fields follow it without a change here:
//   - an integer field named `scheduled_start` or `*_at` is an instant;
//   - an integer field named `amount` or `*_amount` is an amount in the event's currency: that
//     of its postings, or else `currency` (the booking's, which the caller looks up); a posting
//     keeps its own shape {debit, credit, amount, currency};
//   - everything else is written as the log stores it.
#include <optional>
#include <string>
#include <string_view>

#include "projections/events.h"

namespace tl::views {

bool is_instant_field(std::string_view name);
bool is_amount_field(std::string_view name);

// True when rendering `data` needs the booking's currency (bare amounts and no postings).
bool needs_booking_currency(const EventData& data);

// Appends the data object. `currency` may be empty when needs_booking_currency() is false.
void append_event_data(std::string& out, const EventData& data, const std::optional<Currency>& currency);

}  // namespace tl::views
