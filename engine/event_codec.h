#pragma once
// Typed domain events ↔ the log's records. `data` is canonical JSON: the fields of the event
// struct in their declared order (events.h), no whitespace, integers only; money is
// {"amount":N,"currency":"ETB"}; postings are arrays of {"debit","credit","amount","currency"}.
// Decoding is strict: a field missing, out of order, of the wrong type, or extra is an error.
#include <string>

#include "engine/event_record.h"
#include "engine/status.h"
#include "projections/events.h"

namespace tl {

// The `schema` of the events written now. Schema 2 added the provider's amount and currency to
// PaymentRejected; every other event is the same in both. Events of schema 1 are upcast when
// decoded: their PaymentRejected gets both fields empty.
constexpr int32_t event_schema_current = 2;
constexpr int32_t event_schema_first = 1;

std::string encode_event_data(const EventData& data);

// The record to append for `data`, decided by a command of `actor` at `at`.
NewEvent make_new_event(const EventData& data, const Actor& actor, TimeMs at, std::string_view command_id);

// The record `event` becomes once the log places it (position, stream, version); hashes unset.
EventRecord placed_record(const NewEvent& event, uint64_t position, std::string_view stream, uint32_t version);

// Decodes a stored record into a domain event (envelope and typed data). Records of older
// schemas are upcast here. Returns corruption for anything that does not decode.
Status decode_event(const EventRecord& record, Event* out);

// Decodes just the data of an event of type `type`. Data in the canonical form (what
// encode_event_data writes) is read by hand, which is several times faster; anything else goes
// to decode_event_data_json.
Status decode_event_data(std::string_view type, int32_t schema, std::string_view data, EventData* out);
// The same for data of the current schema.
Status decode_event_data(std::string_view type, std::string_view data, EventData* out);

// decode_event_data without its fast path: data in the canonical form is read by hand, anything
// else by this general JSON decoder (simdjson On-Demand). Exposed so tests and the fuzzer can
// check that the two agree.
Status decode_event_data_json(std::string_view type, std::string_view data, EventData* out);

}  // namespace tl
