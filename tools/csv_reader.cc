#include "tools/csv_reader.h"

namespace idrecon::tools {

void CsvReader::SkipLine() {
  while (pos_ < data_.size() && data_[pos_] != '\n') ++pos_;
  if (pos_ < data_.size()) {
    ++pos_;
    ++next_line_;
  }
}

bool CsvReader::Next(std::vector<CsvField>* fields, Status* status) {
  *status = Status::Ok();
  fields->clear();
  // Skip blank lines.
  while (pos_ < data_.size() && (data_[pos_] == '\n' || data_[pos_] == '\r')) {
    if (data_[pos_] == '\n') ++next_line_;
    ++pos_;
  }
  if (pos_ >= data_.size()) return false;
  record_line_ = next_line_;
  scratch_.clear();
  struct Span {
    std::size_t begin, length;
    bool quoted, in_scratch;
  };
  thread_local std::vector<Span> spans;
  spans.clear();
  for (;;) {
    Span span{pos_, 0, false, false};
    if (pos_ < data_.size() && data_[pos_] == '"') {
      span.quoted = true;
      ++pos_;
      const std::size_t start = pos_;
      bool escaped = false;
      for (;;) {
        if (pos_ >= data_.size()) {
          *status = Status::InvalidArgument("line " + std::to_string(record_line_) + ": unterminated quoted field");
          return false;
        }
        const char c = data_[pos_];
        if (c == '"') {
          if (pos_ + 1 < data_.size() && data_[pos_ + 1] == '"') {
            escaped = true;
            pos_ += 2;
            continue;
          }
          break;
        }
        if (c == '\n') ++next_line_;
        ++pos_;
      }
      const std::string_view raw = data_.substr(start, pos_ - start);
      ++pos_;  // the closing quote
      if (escaped) {
        span.in_scratch = true;
        span.begin = scratch_.size();
        for (std::size_t i = 0; i < raw.size(); ++i) {
          scratch_.push_back(raw[i]);
          if (raw[i] == '"') ++i;  // "" → "
        }
        span.length = scratch_.size() - span.begin;
      } else {
        span.begin = start;
        span.length = raw.size();
      }
      // A CR here must end the record (CRLF, or CR at the end of the input):
      // a lone CR is text after the quote, not a field separator.
      const bool cr_ends_record =
          pos_ < data_.size() && data_[pos_] == '\r' && (pos_ + 1 == data_.size() || data_[pos_ + 1] == '\n');
      if (pos_ < data_.size() && data_[pos_] != ',' && data_[pos_] != '\n' && !cr_ends_record) {
        *status = Status::InvalidArgument("line " + std::to_string(next_line_) + ": text after a closing quote");
        SkipLine();
        return false;
      }
    } else {
      while (pos_ < data_.size() && data_[pos_] != ',' && data_[pos_] != '\n') ++pos_;
      span.length = pos_ - span.begin;
      if (span.length > 0 && pos_ <= data_.size() && data_[span.begin + span.length - 1] == '\r' &&
          (pos_ == data_.size() || data_[pos_] == '\n')) {
        --span.length;  // CRLF
      }
    }
    spans.push_back(span);
    if (pos_ < data_.size() && data_[pos_] == '\r') ++pos_;
    if (pos_ >= data_.size()) break;
    if (data_[pos_] == ',') {
      ++pos_;
      continue;
    }
    if (data_[pos_] == '\n') {
      ++pos_;
      ++next_line_;
      break;
    }
  }
  fields->reserve(spans.size());
  for (const Span& s : spans) {
    const std::string_view base = s.in_scratch ? std::string_view(scratch_) : data_;
    fields->push_back(CsvField{base.substr(s.begin, s.length), s.quoted});
  }
  return true;
}

}  // namespace idrecon::tools
