// LogBatch: encoded log records waiting to be written together, in seq order.
//
// Thread-safety: none; the LogWriter guards the batch being filled with its
// mutex and hands a full one to its writer thread.
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
  }
  void Clear() {
    data_.clear();
    entries_.clear();
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  Seq first_seq() const { return entries_.front().seq; }
  Seq last_seq() const { return entries_.back().seq; }

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
};

}  // namespace idrecon
