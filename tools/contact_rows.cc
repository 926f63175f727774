#include "tools/contact_rows.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <boost/unordered/unordered_flat_map.hpp>

#include "api/json_writer.h"
#include "engine/engine.h"
#include "tools/csv_reader.h"
#include "tools/timestamp_parser.h"

namespace idrecon::tools {

std::string_view StringStore::Add(std::string_view s) {
  if (s.empty()) return {};
  if (capacity_ - used_ < s.size()) {
    const std::size_t size = std::max<std::size_t>(s.size(), std::size_t{4} << 20);
    blocks_.push_back(std::make_unique<char[]>(size));
    used_ = 0;
    capacity_ = size;
  }
  char* p = blocks_.back().get() + used_;
  std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return {p, s.size()};
}

MappedInput::~MappedInput() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

Status MappedInput::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("stat " + path + ": " + std::strerror(err));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Status::IOError("mmap " + path + ": " + std::strerror(err));
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<char*>(p);
  }
  ::close(fd);
  return Status::Ok();
}

namespace {

enum Column { kId, kPhone, kEmail, kLinkedId, kPrecedence, kCreatedAt, kUpdatedAt, kDeletedAt, kColumns };
constexpr std::array<std::string_view, kColumns> kNames = {"id",        "phoneNumber", "email",     "linkedId",
                                                           "linkPrecedence", "createdAt", "updatedAt", "deletedAt"};


bool ParseId(std::string_view s, ContactId* out) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 0xFFFFFFFFull) return false;
  *out = static_cast<ContactId>(v);
  return true;
}

// How a warning names header column `index` (0-based): by its name when that
// looks like a column name, else by number only. A file without a header has
// a data row there, and its values must not be echoed.
std::string ColumnName(std::size_t index, std::string_view name) {
  std::string out = "column " + std::to_string(index + 1);
  bool identifier = !name.empty() && name.size() <= 64 &&
                    ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
  for (char c : name) {
    identifier = identifier && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (identifier) out += " '" + std::string(name) + "'";
  return out;
}

std::string RepeatReason(ContactId id, std::uint64_t first_line) {
  return "id " + std::to_string(id) + " repeats the row on line " + std::to_string(first_line);
}

// The line of the accepted row with `id` (there is one: repeats are refused).
std::uint64_t FirstLineOf(const std::vector<InputRow>& rows, ContactId id, CsvParseResult* result) {
  for (const InputRow& r : rows) {
    ++result->rows_visited_for_repeats;
    if (r.id == id) return r.line;
  }
  return 0;
}

// Names the first line in each repeat note (`repeats` index result->malformed),
// in one pass over the rows however many repeats there are.
void NameRepeatedRows(const std::vector<InputRow>& rows, const std::vector<std::size_t>& repeats,
                      CsvParseResult* result) {
  if (repeats.empty()) return;
  boost::unordered_flat_map<ContactId, std::uint64_t> first_line;
  for (std::size_t i : repeats) first_line.emplace(result->malformed[i].id, 0);
  for (const InputRow& r : rows) {
    ++result->rows_visited_for_repeats;
    if (const auto it = first_line.find(r.id); it != first_line.end()) it->second = r.line;
  }
  for (std::size_t i : repeats) {
    LineNote& note = result->malformed[i];
    note.what = RepeatReason(note.id, first_line[note.id]);
  }
}

}  // namespace

Status ParseContactCsv(std::string_view csv, const CsvParseOptions& options, ContactRows* out,
                       CsvParseResult* result) {
  const std::string_view null_marker = options.null_marker;
  auto IsNull = [&](const CsvField& f) {
    return f.text.empty() || (!f.quoted && !null_marker.empty() && f.text == null_marker);
  };
  const Millis latest = options.clock->NowMillis() + kMaxFutureMillis;
  CsvReader reader(csv);
  std::vector<CsvField> fields;
  Status st;
  if (!reader.Next(&fields, &st)) {
    return st.ok() ? Status::InvalidArgument("the CSV is empty: expected a header line") : st;
  }
  std::array<int, kColumns> col;
  col.fill(-1);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string_view name = TrimAsciiWhitespace(fields[i].text);
    if (i == 0 && name.size() >= 3 && name.substr(0, 3) == "\xEF\xBB\xBF") name.remove_prefix(3);  // BOM
    bool known = false;
    for (int c = 0; c < kColumns; ++c) {
      if (name == kNames[static_cast<std::size_t>(c)]) {
        if (col[static_cast<std::size_t>(c)] != -1) {
          return Status::InvalidArgument("line 1: column " + std::string(name) + " appears twice");
        }
        col[static_cast<std::size_t>(c)] = static_cast<int>(i);
        known = true;
      }
    }
    if (!known) result->warnings.push_back("ignoring unknown " + ColumnName(i, name));
  }
  for (int c = 0; c < kDeletedAt; ++c) {
    if (col[static_cast<std::size_t>(c)] == -1) {
      return Status::InvalidArgument("line 1: the header has no column '" + std::string(kNames[static_cast<std::size_t>(c)]) +
                                     "' (expected id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt)");
    }
  }
  const std::size_t width = fields.size();
  std::vector<bool> seen;  // dense by id, grows as needed
  // Malformed notes of repeated ids whose first line is filled in at the end.
  std::vector<std::size_t> repeats;

  std::uint64_t n = 0;
  for (;;) {
    std::string reason;
    ContactId id_for_note = 0;
    bool repeat = false;
    const bool got = reader.Next(&fields, &st);
    if (!got && st.ok()) break;
    if ((++n & 0xFFFF) == 0 && options.progress) options.progress(reader.offset());
    InputRow row;
    row.line = reader.line();
    if (!got) {
      reason = st.message();
      const std::string prefix = "line " + std::to_string(row.line) + ": ";
      if (reason.compare(0, prefix.size(), prefix) == 0) reason.erase(0, prefix.size());
    } else {
      ++result->records;
      auto field = [&](Column c) -> const CsvField& { return fields[static_cast<std::size_t>(col[c])]; };
      auto time_of = [&](Column c, Millis* t, bool required) -> bool {
        if (col[c] == -1 || IsNull(field(c))) {
          if (required) reason = std::string(kNames[c]) + " is null";
          return !required;
        }
        Status ts = ParseTimestamp(TrimAsciiWhitespace(field(c).text), t);
        if (!ts.ok()) {
          reason = std::string(kNames[c]) + ": " + ts.message();
        } else if (*t > latest) {
          reason = std::string(kNames[c]) + " is more than a day in the future";
          return false;
        }
        return ts.ok();
      };
      [&] {
        if (fields.size() != width) {
          reason = std::to_string(fields.size()) + " fields, the header has " + std::to_string(width);
          return;
        }
        if (!ParseId(TrimAsciiWhitespace(field(kId).text), &row.id)) {
          reason = "id is not an integer in 1..4294967295";
          return;
        }
        id_for_note = row.id;
        if (!IsNull(field(kLinkedId)) && !ParseId(TrimAsciiWhitespace(field(kLinkedId).text), &row.linked_id)) {
          reason = "linkedId is not an integer in 1..4294967295";
          return;
        }
        const std::string_view prec = TrimAsciiWhitespace(field(kPrecedence).text);
        if (prec == "primary") {
          row.secondary = false;
        } else if (prec == "secondary") {
          row.secondary = true;
        } else {
          reason = "linkPrecedence is neither primary nor secondary";
          return;
        }
        if (!time_of(kCreatedAt, &row.created_at, true) || !time_of(kUpdatedAt, &row.updated_at, true) ||
            !time_of(kDeletedAt, &row.deleted_at, false)) {
          return;
        }
        const std::string_view raw_email = IsNull(field(kEmail)) ? std::string_view() : field(kEmail).text;
        const std::string_view raw_phone = IsNull(field(kPhone)) ? std::string_view() : field(kPhone).text;
        const std::string_view email = TrimAsciiWhitespace(raw_email);
        const std::string_view phone = TrimAsciiWhitespace(raw_phone);
        if (email.empty() && phone.empty()) {
          reason = "neither email nor phoneNumber";
          return;
        }
        if (email.size() > kMaxEmailBytes) {
          reason = "email is longer than " + std::to_string(kMaxEmailBytes) + " bytes";
          return;
        }
        if (phone.size() > kMaxPhoneBytes) {
          reason = "phoneNumber is longer than " + std::to_string(kMaxPhoneBytes) + " bytes";
          return;
        }
        // docs/api.md §2 refuses invalid UTF-8 at /identify; an import must
        // not store what the server could not then show in a JSON response.
        if (!IsValidUtf8(email) || !IsValidUtf8(phone)) {
          reason = std::string(IsValidUtf8(email) ? "phoneNumber" : "email") + " is not valid UTF-8";
          return;
        }
        if (row.id < seen.size() && seen[row.id]) {
          repeat = true;
          reason = RepeatReason(row.id, 0);  // the line is named below
          return;
        }
        if (email.size() != raw_email.size()) result->trimmed.push_back({row.line, row.id, "email trimmed of whitespace"});
        if (phone.size() != raw_phone.size()) {
          result->trimmed.push_back({row.line, row.id, "phoneNumber trimmed of whitespace"});
        }
        row.email = out->strings.Add(email);
        row.phone = out->strings.Add(phone);
      }();
    }
    if (!reason.empty()) {
      if (options.strict) {
        if (repeat) reason = RepeatReason(row.id, FirstLineOf(out->rows, row.id, result));
        return Status::InvalidArgument("line " + std::to_string(row.line) + ": " + reason);
      }
      if (repeat) repeats.push_back(result->malformed.size());
      result->malformed.push_back({row.line, id_for_note, std::move(reason)});
      continue;
    }
    if (row.id >= seen.size()) seen.resize(std::max<std::size_t>(row.id + 1, seen.size() * 2));
    seen[row.id] = true;
    out->rows.push_back(row);
  }
  NameRepeatedRows(out->rows, repeats, result);
  if (options.progress) options.progress(csv.size());
  return Status::Ok();
}

}  // namespace idrecon::tools
