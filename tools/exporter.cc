#include "tools/exporter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "api/contact_json.h"
#include "engine/timestamp.h"
#include "tools/progress.h"
#include "tools/store.h"

namespace idrecon::tools {
namespace {

void AppendCsvValue(std::string_view v, std::string* out) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos && v != "\\N") {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// Creates (or truncates) `path` as mode 0600 whatever the umask: an export is
// personal data. fchmod because open's mode is only ever narrowed by the
// umask, and a leftover file keeps its old mode; O_NOFOLLOW so a planted
// symlink cannot send the rows elsewhere.
Status CreatePrivateFile(const std::string& path, std::FILE** out) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::IOError("create " + path + ": " + std::strerror(errno));
  if (::fchmod(fd, 0600) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("chmod " + path + ": " + std::strerror(err));
  }
  *out = ::fdopen(fd, "wb");
  if (*out == nullptr) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("fdopen " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace

void AppendCsvHeader(std::string* out) {
  out->append("id,phoneNumber,email,linkedId,linkPrecedence,createdAt,updatedAt,deletedAt\n");
}

void AppendCsvRow(const ContactRow& row, std::string* out) {
  out->append(std::to_string(row.id));
  out->push_back(',');
  AppendCsvValue(row.phone, out);
  out->push_back(',');
  AppendCsvValue(row.email, out);
  out->push_back(',');
  if (row.linked_id != 0) out->append(std::to_string(row.linked_id));
  out->append(row.is_primary ? ",primary," : ",secondary,");
  AppendIsoTimestamp(*out, row.created_at);
  out->push_back(',');
  AppendIsoTimestamp(*out, row.updated_at);
  out->push_back(',');
  if (row.deleted_at) AppendIsoTimestamp(*out, *row.deleted_at);
  out->push_back('\n');
}

void AppendJsonRow(const ContactRow& row, std::string* out) {
  AppendContactJson(row, out);
  out->push_back('\n');
}

Status Export(const ExportOptions& options, ExportSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(options.data_dir, false, true, &db); !s.ok()) return s;
  const Engine* engine = db->engine();
  summary->recover_seconds = SecondsSince(start);

  const auto t = std::chrono::steady_clock::now();
  std::FILE* out = stdout;
  const std::string tmp = options.out_path.empty() ? "" : options.out_path + ".tmp";
  if (!tmp.empty()) {
    if (Status s = CreatePrivateFile(tmp, &out); !s.ok()) return s;
  }
  std::string buffer;
  buffer.reserve(1 << 20);
  bool write_failed = false;
  auto flush = [&] {
    if (!buffer.empty() && std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size()) write_failed = true;
    buffer.clear();
  };
  if (!options.jsonl) AppendCsvHeader(&buffer);
  Progress progress("export", engine->contact_count());
  engine->ForEachContact([&](const ContactRow& row) {
    if (IsVacant(row)) return;
    options.jsonl ? AppendJsonRow(row, &buffer) : AppendCsvRow(row, &buffer);
    ++summary->rows;
    if (buffer.size() >= (1 << 20)) {
      flush();
      progress.Update(row.id, summary->rows);
    }
  });
  progress.Finish();
  flush();
  if (std::fflush(out) != 0) write_failed = true;
  if (!tmp.empty()) {
    if (std::fclose(out) != 0) write_failed = true;
    if (write_failed) {
      std::remove(tmp.c_str());
      return Status::IOError("write " + tmp + " failed");
    }
    if (std::rename(tmp.c_str(), options.out_path.c_str()) != 0) {
      return Status::IOError("rename " + tmp + ": " + std::strerror(errno));
    }
  } else if (write_failed) {
    return Status::IOError("write to stdout failed");
  }
  summary->write_seconds = SecondsSince(t);
  return Status::Ok();
}

}  // namespace idrecon::tools
