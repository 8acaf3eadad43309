// Checkpoints of the projections, chunked in the `projections` column family
// (engine/checkpoint_codec.h has the layout). Readers see the old checkpoint or the new one,
// and a torn or foreign checkpoint is reported, never half-loaded.
#include <algorithm>
#include <cassert>

#include <fmt/format.h>
#include <rocksdb/metadata.h>
#include <rocksdb/write_batch.h>

#include "engine/checkpoint_codec.h"
#include "engine/log_keys.h"
#include "engine/log_store_impl.h"

namespace tl {
namespace {

Status read_header(const LogStore::Impl& impl, const rocksdb::ReadOptions& read, std::optional<CheckpointHeader>* out) {
  std::string bytes;
  const rocksdb::Status got = impl.db->Get(read, impl.projections_family, checkpoint_header_key, &bytes);
  if (got.IsNotFound()) {
    out->reset();
    return Status::ok();
  }
  if (!got.ok()) return from_rocksdb(got, "reading the checkpoint header");
  *out = decode_checkpoint_header(bytes);
  if (!*out) return Status::corruption("checkpoint header is malformed");
  return Status::ok();
}

// The hash of the log at `position` (zeros at 0), read under the same snapshot as the header.
Status log_hash_at(const LogStore::Impl& impl, const rocksdb::ReadOptions& read, uint64_t position, Digest* hash) {
  *hash = Digest{};
  if (position == 0) return Status::ok();
  std::string value;
  const rocksdb::Status got = impl.db->Get(read, impl.log_family, log_keys::event_key(position), &value);
  if (!got.ok()) return from_rocksdb(got, fmt::format("reading position {}", position));
  std::optional<Digest> stored = stored_hash_field(value);
  if (!stored) return Status::corruption(fmt::format("position {}: the stored value has no hash field", position));
  *hash = *stored;
  return Status::ok();
}

}  // namespace

Status LogStore::write_checkpoint(const Checkpoint& checkpoint) {
  Impl& impl = *impl_;
  if (impl.secondary()) return Status::invalid_argument("write_checkpoint() on a read-only secondary instance");
  const LogHead head = impl.head();
  if (checkpoint.position > head.position) {
    return Status::invalid_argument(fmt::format("checkpoint at position {} is past the head {}", checkpoint.position, head.position));
  }
  if (checkpoint.payload.size() > impl.options.checkpoint_payload_bytes_max) {
    return Status::invalid_argument(fmt::format("checkpoint payload of {} bytes is over the limit of {}",
                                                checkpoint.payload.size(), impl.options.checkpoint_payload_bytes_max));
  }
  std::optional<CheckpointHeader> old_header;
  if (Status status = read_header(impl, point_read_options(), &old_header); !status.is_ok() && !status.is_corruption()) return status;

  CheckpointHeader header;
  header.generation = old_header ? old_header->generation + 1 : 1;
  header.position = checkpoint.position;
  header.state_hash = checkpoint.state_hash;
  header.payload_bytes = checkpoint.payload.size();
  header.chunk_bytes = impl.options.checkpoint_chunk_bytes;
  header.chunk_count = static_cast<uint32_t>((header.payload_bytes + header.chunk_bytes - 1) / header.chunk_bytes);
  header.payload_sha256 = sha256(checkpoint.payload);
  if (Status status = log_hash_at(impl, point_read_options(), checkpoint.position, &header.log_hash); !status.is_ok()) return status;

  rocksdb::WriteOptions write;
  write.sync = impl.options.sync;
  // Chunks of this generation left by an earlier attempt that died half-way go first.
  {
    rocksdb::WriteBatch batch;
    batch.DeleteRange(impl.projections_family, checkpoint_chunk_key_floor(header.generation),
                      checkpoint_chunk_key_floor(~uint64_t{0}));
    if (Status status = from_rocksdb(impl.db->Write(write, &batch), "clearing checkpoint chunks"); !status.is_ok()) return status;
  }
  // One chunk per WriteBatch keeps memory bounded; none of them is visible before the header.
  const std::string_view payload = checkpoint.payload;
  for (uint32_t index = 0; index < header.chunk_count; ++index) {
    const std::string_view chunk = payload.substr(uint64_t{index} * header.chunk_bytes, header.chunk_bytes);
    const rocksdb::Status put = impl.db->Put(write, impl.projections_family, checkpoint_chunk_key(header.generation, index),
                                             rocksdb::Slice(chunk.data(), chunk.size()));
    if (Status status = from_rocksdb(put, "writing a checkpoint chunk"); !status.is_ok()) return status;
  }
  // The switch: the new header and the end of every older generation, in one synced batch.
  rocksdb::WriteBatch batch;
  batch.Put(impl.projections_family, checkpoint_header_key, encode_checkpoint_header(header));
  batch.DeleteRange(impl.projections_family, checkpoint_chunk_key_floor(0), checkpoint_chunk_key_floor(header.generation));
  rocksdb::WriteOptions synced = write;
  synced.sync = true;
  return from_rocksdb(impl.db->Write(synced, &batch), "writing the checkpoint header");
}

Status LogStore::read_checkpoint_position(std::optional<uint64_t>* out) const {
  assert(out != nullptr);
  out->reset();
  std::optional<CheckpointHeader> header;
  if (Status status = read_header(*impl_, point_read_options(), &header); !status.is_ok()) return status;
  if (header) *out = header->position;
  return Status::ok();
}

Status LogStore::read_checkpoint(std::optional<Checkpoint>* out) const {
  assert(out != nullptr);
  out->reset();
  const Impl& impl = *impl_;
  if (impl.secondary()) {
    // Databases written before checkpoints left blob files (rocksdb_tuning.cpp) may still hold
    // chunks in them, and RocksDB cannot read blob files from a secondary instance.
    rocksdb::ColumnFamilyMetaData projections;
    impl.db->GetColumnFamilyMetaData(impl.projections_family, &projections);
    if (!projections.blob_files.empty()) {
      return Status::invalid_argument(
          "the checkpoint may be in RocksDB blob files, which a secondary instance cannot read; the server's next "
          "checkpoint writes it without them");
    }
  }
  const rocksdb::Snapshot* snapshot = impl.take_snapshot();
  rocksdb::ReadOptions read = point_read_options();
  read.snapshot = snapshot;
  read.fill_cache = false;
  auto release = [&] { impl.release_snapshot(snapshot); };

  std::optional<CheckpointHeader> header;
  Status status = read_header(impl, read, &header);
  if (!status.is_ok() || !header) {
    release();
    return status;
  }
  if (header->payload_bytes > impl.options.checkpoint_payload_bytes_max) {
    release();
    return Status::corruption(fmt::format("checkpoint header claims {} bytes, over the limit", header->payload_bytes));
  }
  // Stale: it must describe a state of this log, at or below its head, with the same hash there.
  const LogHead head = impl.head();
  Digest log_hash{};
  if (header->position > head.position) {
    status = Status::corruption(fmt::format("stale checkpoint: position {} is past the log head {}", header->position, head.position));
  } else if (status = log_hash_at(impl, read, header->position, &log_hash); status.is_ok() && log_hash != header->log_hash) {
    status = Status::corruption(fmt::format("stale checkpoint: the log's hash at position {} is not the one it was taken at", header->position));
  }
  if (!status.is_ok()) {
    release();
    return status;
  }

  Checkpoint checkpoint;
  checkpoint.position = header->position;
  checkpoint.state_hash = header->state_hash;
  checkpoint.payload.reserve(header->payload_bytes);
  const std::string end_key = checkpoint_chunk_key_floor(header->generation + 1);
  const rocksdb::Slice upper_bound(end_key);
  read.iterate_upper_bound = &upper_bound;
  // Every chunk is covered by the payload's SHA-256 below; RocksDB's block CRC32C would check the
  // same bytes again (without hardware CRC in Debian's portable build: a sixth of start-up at 10M).
  read.verify_checksums = false;
  uint32_t index = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read, impl.projections_family));
    for (it->Seek(checkpoint_chunk_key(header->generation, 0)); it->Valid() && status.is_ok(); it->Next(), ++index) {
      const uint64_t expected_bytes = std::min<uint64_t>(header->chunk_bytes, header->payload_bytes - checkpoint.payload.size());
      if (index >= header->chunk_count || it->key().ToStringView() != checkpoint_chunk_key(header->generation, index) ||
          it->value().size() != expected_bytes) {
        status = Status::corruption(fmt::format("torn checkpoint: chunk {} of {} is missing or has the wrong size", index, header->chunk_count));
        break;
      }
      checkpoint.payload.append(it->value().data(), it->value().size());
    }
    if (status.is_ok()) status = from_rocksdb(it->status(), "reading checkpoint chunks");
  }
  release();
  if (!status.is_ok()) return status;
  if (index != header->chunk_count) {
    return Status::corruption(fmt::format("torn checkpoint: {} of {} chunks present", index, header->chunk_count));
  }
  if (sha256(checkpoint.payload) != header->payload_sha256) return Status::corruption("torn checkpoint: payload checksum mismatch");
  *out = std::move(checkpoint);
  return Status::ok();
}

}  // namespace tl
