#include "projections/state_codec.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include <fmt/format.h>

#include "projections/notifications.h"

namespace tl {
namespace {

constexpr uint32_t state_magic = 0x534c5454;  // "TTLS"
constexpr size_t piece_bytes_max = 64 * 1024;
constexpr size_t string_bytes_max = 16 * 1024 * 1024;

// The dump's integers are little-endian whatever the host: copied whole on a little-endian host
// (byte by byte, they took most of the encoding time of a 450 MB dump), swapped elsewhere.
template <class T>
void store_little_endian(char* out, T value) {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &value, sizeof(T));
  } else {
    for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  }
}

template <class T>
T load_little_endian(const char* in) {
  static_assert(std::is_unsigned_v<T>);
  T value = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, in, sizeof(T));
  } else {
    for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return value;
}

// Fills a buffer of `piece_bytes_max` and hands it to the sink whenever the next value would not fit.
class Writer {
 public:
  explicit Writer(const std::function<void(std::string_view)>& sink)
      : sink_(sink), buffer_(std::make_unique<char[]>(piece_bytes_max)) {}
  ~Writer() { flush(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void u8(uint8_t value) { fixed(value); }
  void u32(uint32_t value) { fixed(value); }
  void u64(uint64_t value) { fixed(value); }
  void i64(int64_t value) { fixed(static_cast<uint64_t>(value)); }
  void boolean(bool value) { u8(value ? 1 : 0); }
  void str(std::string_view text) {
    u32(static_cast<uint32_t>(text.size()));
    append(text);
  }
  void currency(const Currency& c) { str(c.code()); }
  void money(const Money& m) {
    i64(m.amount);
    currency(m.currency);
  }
  void optional_i64(const std::optional<int64_t>& value) {
    boolean(value.has_value());
    if (value) i64(*value);
  }
  void optional_i64(OptionalInt64 value) { optional_i64(value.as_optional()); }
  void flush() {
    if (size_ > 0) sink_(std::string_view(buffer_.get(), size_));
    size_ = 0;
  }

 private:
  template <class T>
  void fixed(T value) {
    static_assert(sizeof(T) <= piece_bytes_max);
    if (piece_bytes_max - size_ < sizeof(T)) flush();
    store_little_endian(buffer_.get() + size_, value);
    size_ += sizeof(T);
  }
  // Strings may be longer than a piece: they are split across as many as they need.
  void append(std::string_view bytes) {
    while (!bytes.empty()) {
      if (size_ == piece_bytes_max) flush();
      const size_t taken = std::min(bytes.size(), piece_bytes_max - size_);
      std::memcpy(buffer_.get() + size_, bytes.data(), taken);
      size_ += taken;
      bytes.remove_prefix(taken);
    }
  }
  const std::function<void(std::string_view)>& sink_;
  std::unique_ptr<char[]> buffer_;
  size_t size_ = 0;  // bytes of buffer_ not yet handed to the sink
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }
  bool at_end() const { return offset_ == bytes_.size(); }
  void fail(std::string why) {
    if (problem_.empty()) problem_ = std::move(why);
  }

  uint8_t u8() { return static_cast<uint8_t>(fixed<uint8_t>()); }
  uint32_t u32() { return fixed<uint32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  int64_t i64() { return static_cast<int64_t>(fixed<uint64_t>()); }
  bool boolean() {
    const uint8_t value = u8();
    if (value > 1) fail("bad boolean");
    return value == 1;
  }
  std::string str() {
    const uint32_t size = u32();
    if (!ok() || size > string_bytes_max || size > bytes_.size() - offset_) {
      fail("string runs past the end");
      return {};
    }
    std::string text(bytes_.substr(offset_, size));
    offset_ += size;
    return text;
  }
  Currency currency() {
    auto parsed = Currency::parse(str());
    if (!parsed) {
      fail("unknown currency");
      return {};
    }
    return *parsed;
  }
  Money money() {
    Money m;
    m.amount = i64();
    m.currency = currency();
    return m;
  }
  std::optional<int64_t> optional_i64() {
    if (!boolean()) return std::nullopt;
    return i64();
  }
  // For the booking's narrow fields: INT64_MIN stands for "none" there, so it is refused.
  OptionalInt64 narrow_optional_i64() {
    const std::optional<int64_t> value = optional_i64();
    if (value && !fits_optional_int64(*value)) {
      fail("optional value out of range");
      return {};
    }
    return value;
  }
  // An integer stored in a narrower field than the dump's int64.
  template <class T>
  T narrow_i64() {
    const int64_t value = i64();
    if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) {
      fail("value out of range");
      return 0;
    }
    return static_cast<T>(value);
  }
  // A count of elements that each take at least `element_bytes_min` bytes: bounded by what is left.
  uint64_t count(size_t element_bytes_min) {
    const uint64_t n = u64();
    if (ok() && n > (bytes_.size() - offset_) / std::max<size_t>(element_bytes_min, 1)) fail("count runs past the end");
    return ok() ? n : 0;
  }

 private:
  template <class T>
  T fixed() {
    if (!ok() || bytes_.size() - offset_ < sizeof(T)) {
      fail("truncated");
      return 0;
    }
    const T value = load_little_endian<T>(bytes_.data() + offset_);
    offset_ += sizeof(T);
    return value;
  }
  std::string_view bytes_;
  size_t offset_ = 0;
  std::string problem_;
};

template <class Map>
std::vector<typename Map::const_pointer> sorted_entries(const Map& map) {
  std::vector<typename Map::const_pointer> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](auto a, auto b) { return a->first < b->first; });
  return entries;
}

void write_booking(Writer& w, const Booking& b) {
  w.str(b.id);
  w.str(b.student_id);
  w.str(b.tutor_id);
  w.str(b.subject);
  w.i64(b.scheduled_start);
  w.i64(b.duration_minutes);
  w.money(b.price);
  w.u8(static_cast<uint8_t>(b.status));
  w.str(b.payment_ref());
  w.i64(b.created_at);
  w.u32(b.version);
  w.boolean(b.session_active);
  w.optional_i64(b.started_at);
  w.optional_i64(b.ended_at);
  w.optional_i64(b.duration_seconds);
  w.str(b.channel());
  w.str(b.notes);
  w.u8(static_cast<uint8_t>(b.escrow_status));
  w.optional_i64(b.held_at);
  w.optional_i64(b.release_at);
  w.optional_i64(b.released_at);
  w.optional_i64(b.tutor_amount);
  w.optional_i64(b.fee_amount);
  w.optional_i64(b.refunded_amount);
  w.optional_i64(b.scheduled_release_amount);
  w.str(b.dispute_reason);
  w.i64(b.rating_stars);
  w.str(b.rating_comment);
}

Booking read_booking(Reader& r) {
  Booking b;
  b.id = r.str();
  b.student_id = r.str();
  b.tutor_id = r.str();
  b.subject = r.str();
  b.scheduled_start = r.i64();
  b.duration_minutes = r.narrow_i64<int32_t>();
  b.price = r.money();
  const uint8_t status = r.u8();
  if (status > static_cast<uint8_t>(BookingStatus::no_show)) r.fail("bad booking status");
  b.status = static_cast<BookingStatus>(status);
  b.set_payment_ref(r.str());
  b.created_at = r.i64();
  b.version = r.u32();
  b.session_active = r.boolean();
  b.started_at = r.narrow_optional_i64();
  b.ended_at = r.narrow_optional_i64();
  b.duration_seconds = r.narrow_optional_i64();
  b.set_channel(r.str());
  b.notes = r.str();
  const uint8_t escrow = r.u8();
  if (escrow > static_cast<uint8_t>(EscrowStatus::split)) r.fail("bad escrow status");
  b.escrow_status = static_cast<EscrowStatus>(escrow);
  b.held_at = r.narrow_optional_i64();
  b.release_at = r.narrow_optional_i64();
  b.released_at = r.narrow_optional_i64();
  b.tutor_amount = r.narrow_optional_i64();
  b.fee_amount = r.narrow_optional_i64();
  b.refunded_amount = r.narrow_optional_i64();
  b.scheduled_release_amount = r.narrow_optional_i64();
  b.dispute_reason = r.str();
  b.rating_stars = r.narrow_i64<uint8_t>();
  b.rating_comment = r.str();
  return b;
}

void write_withdrawal(Writer& w, const Withdrawal& x) {
  w.str(x.id);
  w.str(x.tutor_id);
  w.money(x.amount);
  w.str(x.destination);
  w.u8(static_cast<uint8_t>(x.status));
  w.i64(x.requested_at);
  w.optional_i64(x.completed_at);
  w.str(x.failure_reason);
}

Withdrawal read_withdrawal(Reader& r) {
  Withdrawal x;
  x.id = r.str();
  x.tutor_id = r.str();
  x.amount = r.money();
  x.destination = r.str();
  const uint8_t status = r.u8();
  if (status > static_cast<uint8_t>(WithdrawalStatus::failed)) r.fail("bad withdrawal status");
  x.status = static_cast<WithdrawalStatus>(status);
  x.requested_at = r.i64();
  x.completed_at = r.optional_i64();
  x.failure_reason = r.str();
  return x;
}

void write_index_lists(Writer& w, const StringMap<std::vector<uint32_t>>& lists) {
  w.u64(lists.size());
  for (const auto* entry : sorted_entries(lists)) {
    w.str(entry->first);
    w.u64(entry->second.size());
    for (uint32_t index : entry->second) w.u32(index);
  }
}

void read_index_lists(Reader& r, StringMap<std::vector<uint32_t>>* lists, size_t limit) {
  const uint64_t n = r.count(12);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string key = r.str();
    const uint64_t size = r.count(4);
    std::vector<uint32_t> indexes;
    indexes.reserve(size);
    for (uint64_t j = 0; j < size && r.ok(); ++j) {
      indexes.push_back(r.u32());
      if (indexes.back() >= limit) r.fail("index out of range");
    }
    lists->emplace(std::move(key), std::move(indexes));
  }
}

void write_notification_lists(Writer& w, const StringMap<std::vector<Notification>>& lists) {
  w.u64(lists.size());
  for (const auto* entry : sorted_entries(lists)) {
    w.str(entry->first);
    w.u64(entry->second.size());
    for (const auto& n : entry->second) {
      w.u64(n.position);
      w.i64(n.at);
      w.u32(n.subject);
      w.u8(n.event_kind);
    }
  }
}

// After the bookings and withdrawals: a notification must refer to one of them.
void read_notification_lists(Reader& r, const State& state, StringMap<std::vector<Notification>>* lists) {
  const uint64_t users = r.count(12);
  for (uint64_t i = 0; i < users && r.ok(); ++i) {
    std::string user = r.str();
    const uint64_t n = r.count(21);
    std::vector<Notification> list;
    list.reserve(n);
    for (uint64_t j = 0; j < n && r.ok(); ++j) {
      Notification notification;
      const uint64_t position = r.u64();
      if (position > notification_position_max) r.fail("notification position out of range");
      notification.position = position;
      notification.at = r.i64();
      notification.subject = r.u32();
      const uint8_t event_kind = r.u8();
      notification.event_kind = event_kind;
      const size_t subjects = is_withdrawal_notification(event_kind) ? state.withdrawals.size() : state.bookings.size();
      if (event_kind >= std::variant_size_v<EventData> || notification.subject >= subjects) {
        r.fail("notification refers to nothing");
      }
      list.push_back(notification);
    }
    lists->emplace(std::move(user), std::move(list));
  }
}

// Amounts per currency, in currency order. Almost always one pair, already in order: copied and
// sorted only when not.
void write_currency_amounts(Writer& w, const std::vector<std::pair<Currency, int64_t>>& amounts) {
  const auto write_sorted = [&w](const std::vector<std::pair<Currency, int64_t>>& sorted) {
    w.u64(sorted.size());
    for (const auto& [currency, amount] : sorted) {
      w.currency(currency);
      w.i64(amount);
    }
  };
  if (std::is_sorted(amounts.begin(), amounts.end())) return write_sorted(amounts);
  auto sorted = amounts;
  std::sort(sorted.begin(), sorted.end());
  write_sorted(sorted);
}

}  // namespace

void write_state(const State& state, const std::function<void(std::string_view)>& sink) {
  Writer w(sink);
  w.u32(state_magic);
  w.u32(state_format_version);
  w.u64(state.position);
  w.i64(state.last_event_at);

  w.u64(state.bookings.size());
  for (const auto& booking : state.bookings) write_booking(w, booking);
  w.u64(state.withdrawals.size());
  for (const auto& withdrawal : state.withdrawals) write_withdrawal(w, withdrawal);

  write_index_lists(w, state.bookings_by_student);
  write_index_lists(w, state.bookings_by_tutor);
  write_index_lists(w, state.withdrawals_by_tutor);

  w.u64(state.tutors.size());
  for (const auto* entry : sorted_entries(state.tutors)) {
    const Tutor& tutor = entry->second;
    w.str(entry->first);
    w.u32(tutor.stream_version);
    w.i64(tutor.rating_sum);
    w.i64(tutor.rating_count);
    write_currency_amounts(w, tutor.pending_release);
  }

  w.u64(state.balances.size());
  for (const auto* entry : sorted_entries(state.balances)) {
    w.str(entry->first);
    write_currency_amounts(w, entry->second);
  }

  for (const Role role : {Role::student, Role::tutor}) write_notification_lists(w, state.notifications_of(role));

  w.u64(state.payments.size());
  for (const auto* entry : sorted_entries(state.payments)) {
    w.str(entry->first);
    w.u32(entry->second.booking);
    w.boolean(entry->second.accepted);
    w.str(entry->second.reason);
  }
}

std::string dump_state(const State& state) {
  std::string out;
  write_state(state, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

std::optional<uint32_t> state_dump_format(std::string_view bytes) {
  Reader r(bytes);
  if (r.u32() != state_magic || !r.ok()) return std::nullopt;
  const uint32_t version = r.u32();
  if (!r.ok()) return std::nullopt;
  return version;
}

std::string load_state(std::string_view bytes, State* out) {
  Reader r(bytes);
  State state;
  if (r.u32() != state_magic) return "not a tutorledger state dump";
  if (const uint32_t version = r.u32(); version != state_format_version) {
    return fmt::format("state dump format {} is not {}", version, state_format_version);
  }
  state.position = r.u64();
  state.last_event_at = r.i64();

  const uint64_t bookings = r.count(64);
  for (uint64_t i = 0; i < bookings && r.ok(); ++i) state.bookings.push_back(read_booking(r));
  const uint64_t withdrawals = r.count(32);
  for (uint64_t i = 0; i < withdrawals && r.ok(); ++i) state.withdrawals.push_back(read_withdrawal(r));

  read_index_lists(r, &state.bookings_by_student, state.bookings.size());
  read_index_lists(r, &state.bookings_by_tutor, state.bookings.size());
  read_index_lists(r, &state.withdrawals_by_tutor, state.withdrawals.size());

  const uint64_t tutors = r.count(24);
  for (uint64_t i = 0; i < tutors && r.ok(); ++i) {
    std::string id = r.str();
    Tutor tutor;
    tutor.stream_version = r.u32();
    tutor.rating_sum = r.i64();
    tutor.rating_count = r.i64();
    const uint64_t pending = r.count(15);
    for (uint64_t j = 0; j < pending && r.ok(); ++j) {
      const Currency currency = r.currency();
      tutor.pending_release.emplace_back(currency, r.i64());
    }
    state.tutors.emplace(std::move(id), std::move(tutor));
  }

  const uint64_t accounts = r.count(12);
  for (uint64_t i = 0; i < accounts && r.ok(); ++i) {
    std::string account = r.str();
    CurrencyBalances balances;
    const uint64_t n = r.count(15);
    for (uint64_t j = 0; j < n && r.ok(); ++j) {
      const Currency currency = r.currency();
      balances.emplace_back(currency, r.i64());
    }
    state.balances.emplace(std::move(account), std::move(balances));
  }

  for (const Role role : {Role::student, Role::tutor}) read_notification_lists(r, state, &state.notifications_of(role));

  const uint64_t payments = r.count(9);
  for (uint64_t i = 0; i < payments && r.ok(); ++i) {
    std::string reference = r.str();
    PaymentRecord record;
    record.booking = r.u32();
    record.accepted = r.boolean();
    record.reason = r.str();
    if (record.booking >= state.bookings.size()) r.fail("payment refers to no booking");
    state.payments.emplace(std::move(reference), std::move(record));
  }

  if (!r.ok()) return "state dump is damaged: " + r.problem();
  if (!r.at_end()) return "state dump has trailing bytes";
  state.rebuild_indexes();
  if (state.booking_index.size() != state.bookings.size()) return "state dump repeats a booking id";
  if (state.withdrawal_index.size() != state.withdrawals.size()) return "state dump repeats a withdrawal id";
  *out = std::move(state);
  return {};
}

}  // namespace tl
