#include "engine/canonical_json.h"

#include <cstdint>

#include <simdjson.h>

#include "engine/canonical_cursor.h"

namespace tl {
namespace {

bool value(CanonicalCursor& cursor, int depth);

bool string(CanonicalCursor& cursor) {
  std::string_view text;
  return cursor.take('"') && cursor.plain_text(&text);
}

bool object(CanonicalCursor& cursor, int depth) {
  if (depth > canonical_json_depth_max || !cursor.take('{')) return false;
  if (cursor.take('}')) return true;
  do {
    if (!string(cursor) || !cursor.take(':') || !value(cursor, depth)) return false;
  } while (cursor.take(','));
  return cursor.take('}');
}

bool array(CanonicalCursor& cursor, int depth) {
  if (depth > canonical_json_depth_max || !cursor.take('[')) return false;
  if (cursor.take(']')) return true;
  do {
    if (!value(cursor, depth)) return false;
  } while (cursor.take(','));
  return cursor.take(']');
}

bool value(CanonicalCursor& cursor, int depth) {
  if (cursor.peek('"')) return string(cursor);
  if (cursor.peek('{')) return object(cursor, depth + 1);
  if (cursor.peek('[')) return array(cursor, depth + 1);
  if (cursor.peek('t')) return cursor.literal("true");
  if (cursor.peek('f')) return cursor.literal("false");
  if (cursor.peek('n')) return cursor.literal("null");
  int64_t number = 0;
  return cursor.integer(&number);
}

}  // namespace

bool is_canonical_json_object(std::string_view text) {
  if (!simdjson::validate_utf8(text.data(), text.size())) return false;
  CanonicalCursor cursor(text);
  return object(cursor, 1) && cursor.at_end();
}

}  // namespace tl
