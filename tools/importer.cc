#include "tools/importer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "api/identify_request.h"
#include "persistence/log_batch.h"
#include "tools/contact_rows.h"
#include "tools/progress.h"
#include "tools/reconciler.h"
#include "tools/store.h"

namespace idrecon::tools {
namespace {

using Clock = std::chrono::steady_clock;

void Note(std::FILE* out, const LineNote& note, const char* kind) {
  std::string where = note.line == 0 ? "data directory" : "line " + std::to_string(note.line);
  if (note.id != 0) where += ", id " + std::to_string(note.id);
  std::fprintf(out, "%s: %s: %s\n", kind, where.c_str(), note.what.c_str());
}

Status RefuseNonEmpty(const Database& db, bool merge) {
  bool empty = false;
  if (Status s = db.IsEmpty(&empty); !s.ok()) return s;
  if (!empty && !merge) {
    return Status::InvalidArgument("data directory " + db.path() +
                                   " already holds data; pass --merge to add to it");
  }
  return Status::Ok();
}

// After a new snapshot at `seq` that covers everything: nothing older is needed.
Status DropOlderState(Database* db, Seq seq) {
  if (Status s = db->log().TrimThrough(seq); !s.ok()) return s;
  std::vector<SnapshotInfo> snapshots;
  if (Status s = ListSnapshots(db->path(), &snapshots); !s.ok()) return s;
  for (const SnapshotInfo& info : snapshots) {
    if (info.last_seq < seq) ::unlink(info.path.c_str());
  }
  return SyncDirectory(db->path());
}

class BatchSink final : public ChangeSink {
 public:
  void Append(const Change& change) override { batch.Add(change); }
  LogBatch batch;
};

}  // namespace

Status ImportCsv(const ImportOptions& options, ImportSummary* summary) {
  const auto start = Clock::now();
  std::FILE* report = options.report ? options.report : stdout;
  MappedInput input;
  if (Status s = input.Open(options.input_path); !s.ok()) return s;
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(options.data_dir, true, false, &db, options.normalization); !s.ok()) return s;
  if (Status s = RefuseNonEmpty(*db, options.merge); !s.ok()) return s;

  // 1. Read.
  ContactRows parsed;
  CsvParseResult parse;
  {
    Progress progress("import: reading", input.bytes().size());
    CsvParseOptions parse_options;
    parse_options.strict = options.strict;
    parse_options.null_marker = options.null_marker;
    parse_options.progress = [&](std::size_t bytes) { progress.Update(bytes, parsed.rows.size()); };
    Status s = ParseContactCsv(input.bytes(), parse_options, &parsed, &parse);
    if (!s.ok()) return s;
  }
  for (const std::string& w : parse.warnings) std::fprintf(stderr, "idrecon-tool import: warning: %s\n", w.c_str());
  for (const LineNote& n : parse.malformed) Note(report, n, "malformed");
  for (const LineNote& n : parse.trimmed) Note(report, n, "repair");
  summary->records = parse.records;
  summary->malformed = parse.malformed.size();
  summary->repairs = parse.trimmed.size();
  summary->read_seconds = SecondsSince(start);

  // 2. Merge with what the directory holds.
  auto t = Clock::now();
  std::unique_ptr<Engine> existing;
  RecoveryReport recovered;
  if (Status s = db->Recover(nullptr, &existing, &recovered); !s.ok()) return s;
  const ContactId existing_end = static_cast<ContactId>(existing->contact_count() + 1);
  std::vector<InputRow>& rows = parsed.rows;
  if (existing->contact_count() > 0) {
    if (options.renumber) {
      const ContactId shift = existing_end - 1;
      for (InputRow& r : rows) {
        if (std::uint64_t{r.id} + shift > 0xFFFFFFFFull || std::uint64_t{r.linked_id} + shift > 0xFFFFFFFFull) {
          return Status::InvalidArgument("line " + std::to_string(r.line) + ": id " + std::to_string(r.id) +
                                         " renumbered is over 4294967295");
        }
        r.id += shift;
        if (r.linked_id != 0) r.linked_id += shift;
      }
    } else {
      for (const InputRow& r : rows) {
        if (r.id < existing_end) {
          return Status::InvalidArgument("line " + std::to_string(r.line) + ": id " + std::to_string(r.id) +
                                         " already exists in the data directory (ids 1.." +
                                         std::to_string(existing_end - 1) + "); pass --renumber to shift imported ids");
        }
      }
    }
    summary->existing = existing->contact_count();
    existing->ForEachContact([&](const ContactRow& c) {
      if (IsVacant(c)) return;
      InputRow r;
      r.id = c.id;
      r.email = c.email;
      r.phone = c.phone;
      r.linked_id = c.linked_id;
      r.secondary = !c.is_primary;
      r.created_at = c.created_at;
      r.updated_at = c.updated_at;
      r.deleted_at = c.deleted_at ? *c.deleted_at : kNoTime;
      rows.push_back(r);
    });
  }

  // 3. Reconcile.
  Millis repair_time = options.repair_time != 0 ? options.repair_time : SystemClock::Instance().NowMillis();
  ReconcileResult reconciled;
  Reconcile(&rows, repair_time, &reconciled);
  for (const LineNote& n : reconciled.repairs) Note(report, n, "repair");
  summary->repairs += reconciled.repairs.size();
  summary->live = reconciled.live;
  summary->deleted = reconciled.deleted;
  summary->clusters = reconciled.clusters;
  summary->imported = parse.records - parse.malformed.size();
  summary->reconcile_seconds = SecondsSince(t);
  if (rows.empty()) {
    summary->total_seconds = SecondsSince(start);
    return Status::Ok();
  }
  const std::uint64_t max_id = rows.back().id;
  const std::uint64_t vacant = max_id - rows.size();
  if (vacant > std::max<std::uint64_t>(1'000'000, rows.size())) {
    return Status::InvalidArgument("the ids leave " + std::to_string(vacant) + " gaps (highest id " +
                                   std::to_string(max_id) + " for " + std::to_string(rows.size()) +
                                   " rows); refusing to hold that many vacant ids");
  }
  summary->vacant = vacant;

  // 4. Load a fresh engine in id order, vacant ids in the gaps.
  t = Clock::now();
  std::unique_ptr<Engine> engine = db->NewEngine();
  {
    Progress progress("import: loading", max_id);
    std::size_t next = 0;
    for (std::uint64_t id = 1; id <= max_id; ++id) {
      ContactRow row;
      row.id = static_cast<ContactId>(id);
      const InputRow& r = rows[next];
      if (r.id == id) {
        row.email = r.email;
        row.phone = r.phone;
        row.linked_id = r.linked_id;
        row.is_primary = !r.secondary;
        row.created_at = r.created_at;
        row.updated_at = r.updated_at;
        if (!r.live()) row.deleted_at = r.deleted_at;
        ++next;
      } else {  // vacant: dated like the next real row, so it disturbs no order
        row.created_at = row.updated_at = r.created_at;
        row.deleted_at = r.created_at;
      }
      if (Status s = engine->RestoreContact(row); !s.ok()) return s;
      if ((id & 0xFFFF) == 0) progress.Update(id, id);
    }
    for (const InputRow& r : rows) {
      if (r.live() && r.secondary) {
        if (Status s = engine->RestoreLink(r.id, r.linked_id); !s.ok()) return s;
      }
    }
    // The rows' own links (their linkedIds, and a merged directory's
    // clusters) carry no evidence the link graph could re-check: each
    // cluster the import leaves stays linked as it is (docs/api.md §8), at
    // no cost in memory (a flag on each of its contacts).
    if (Status s = engine->RestoreLegacyLinked({}, true); !s.ok()) return s;
  }
  existing.reset();
  const Seq seq = recovered.last_seq + 1;
  engine->FinishRestore(seq);
  summary->load_seconds = SecondsSince(t);

  // 5. Write it.
  t = Clock::now();
  SnapshotInfo info;
  if (Status s = WriteSnapshot(*engine, seq, db->path(), &info); !s.ok()) return s;
  if (Status s = DropOlderState(db.get(), seq); !s.ok()) return s;
  summary->snapshot_path = info.path;
  summary->write_seconds = SecondsSince(t);
  summary->total_seconds = SecondsSince(start);
  return Status::Ok();
}

Status ImportRequests(const ImportOptions& options, ImportSummary* summary) {
  const auto start = Clock::now();
  std::FILE* report = options.report ? options.report : stdout;
  MappedInput input;
  if (Status s = input.Open(options.input_path); !s.ok()) return s;
  const std::string_view data = input.bytes();
  std::unique_ptr<Database> db;
  if (Status s = OpenStore(options.data_dir, true, false, &db, options.normalization); !s.ok()) return s;
  if (Status s = RefuseNonEmpty(*db, options.merge); !s.ok()) return s;

  // Calls fn(line number, body) for each non-blank line.
  auto for_each_line = [&](auto&& fn) -> bool {
    std::uint64_t line = 0;
    std::size_t pos = 0;
    while (pos < data.size()) {
      ++line;
      std::size_t end = data.find('\n', pos);
      if (end == std::string_view::npos) end = data.size();
      const std::string_view body = data.substr(pos, end - pos);
      const std::size_t next = end + 1;
      if (!TrimAsciiWhitespace(body).empty() && !fn(line, body, next)) return false;
      pos = next;
    }
    return true;
  };
  auto check = [](const IdentifyRequest& req) -> Status {
    const std::string_view email = TrimAsciiWhitespace(req.email), phone = TrimAsciiWhitespace(req.phone);
    if (email.empty() && phone.empty()) return Status::InvalidArgument("at least one of email and phoneNumber must be given");
    if (email.size() > kMaxEmailBytes) return Status::InvalidArgument("email is longer than 320 bytes");
    if (phone.size() > kMaxPhoneBytes) return Status::InvalidArgument("phoneNumber is longer than 64 bytes");
    return Status::Ok();
  };
  if (options.strict) {  // validate everything first: strict writes all or nothing
    Status first_bad;
    for_each_line([&](std::uint64_t line, std::string_view body, std::size_t) {
      IdentifyRequest req;
      Status s = ParseIdentifyRequest(body, &req);
      if (s.ok()) s = check(req);
      if (!s.ok()) first_bad = Status::InvalidArgument("line " + std::to_string(line) + ": " + s.message());
      return s.ok();
    });
    if (!first_bad.ok()) return first_bad;
  }

  BatchSink sink;
  std::unique_ptr<Engine> engine;
  RecoveryReport recovered;
  if (Status s = db->Recover(&sink, &engine, &recovered); !s.ok()) return s;
  summary->existing = engine->contact_count();
  Status failed;
  {
    Progress progress("import: replaying", data.size());
    for_each_line([&](std::uint64_t line, std::string_view body, std::size_t offset) {
      ++summary->records;
      IdentifyRequest req;
      Status s = ParseIdentifyRequest(body, &req);
      IdentifyOutcome outcome;
      if (s.ok()) s = engine->Identify(IdentifyQuery{req.email, req.phone, true}, &outcome);
      if (!s.ok()) {
        ++summary->malformed;
        Note(report, LineNote{line, 0, s.message()}, "malformed");
        return true;
      }
      ++summary->imported;
      summary->created += outcome.created_contact ? 1 : 0;
      summary->merges += outcome.merged ? 1 : 0;
      if (sink.batch.size() >= 100'000) {
        failed = db->log().Append(sink.batch);
        sink.batch.Clear();
        if (!failed.ok()) return false;
      }
      if ((summary->records & 0x3FFF) == 0) progress.Update(offset, summary->records);
      return true;
    });
  }
  if (!failed.ok()) return failed;
  if (Status s = db->log().Append(sink.batch); !s.ok()) return s;
  sink.batch.Clear();
  summary->total_seconds = SecondsSince(start);
  summary->read_seconds = summary->total_seconds;
  const auto t = Clock::now();
  if (engine->last_seq() > recovered.last_seq) {
    SnapshotInfo info;
    if (Status s = WriteSnapshot(*engine, engine->last_seq(), db->path(), &info); !s.ok()) return s;
    summary->snapshot_path = info.path;
  }
  summary->write_seconds = SecondsSince(t);
  summary->live = summary->clusters = 0;
  summary->clusters = engine->cluster_count();
  summary->total_seconds = SecondsSince(start);
  return Status::Ok();
}

}  // namespace idrecon::tools
