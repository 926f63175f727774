// LogBatch: encoded log records waiting to be written together, in seq order.
//
// Add may throw std::bad_alloc (it appends to a string and a vector); the
// batch is then still valid for Clear, and nothing else.
//
// Thread-safety: none; the LogWriter guards the batch being filled with its
// mutex and hands a full one to whoever commits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/change.h"
#include "persistence/log_record.h"

namespace idrecon {

class LogBatch {
 public:
  void Add(const Change& change) {
    const std::size_t start = data_.size();
    EncodeLogValue(change, &data_);
    entries_.push_back({change.seq, start, data_.size() - start});
    // Ids are created in seq order, so the last create holds the highest id.
    if (change.kind == Change::Kind::kCreateContact) last_created_ = change.id;
  }
  void Clear() {
    data_.clear();
    entries_.clear();
    last_created_ = 0;
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  Seq first_seq() const { return entries_.front().seq; }
  Seq last_seq() const { return entries_.back().seq; }
  // Bytes the records take in the log, keys included.
  std::size_t bytes() const { return data_.size() + entries_.size() * sizeof(Seq); }
  // The id of the last contact the batch creates; 0 if it creates none.
  ContactId last_created() const { return last_created_; }

  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& e : entries_) fn(e.seq, std::string_view(data_).substr(e.offset, e.length));
  }

 private:
  struct Entry {
    Seq seq;
    std::size_t offset;
    std::size_t length;
  };
  std::string data_;
  std::vector<Entry> entries_;
  ContactId last_created_ = 0;
};

}  // namespace idrecon
