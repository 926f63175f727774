#include "tools/cli.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "engine/clock.h"
#include "engine/status.h"
#include "persistence/backup.h"
#include "persistence/dir_settings.h"
#include "tools/contact_rows.h"
#include "tools/exporter.h"
#include "tools/importer.h"
#include "tools/normalization_converter.h"
#include "tools/rebuilder.h"
#include "tools/stats.h"
#include "tools/store.h"
#include "tools/timestamp_parser.h"
#include "tools/verifier.h"

namespace idrecon::tools {
namespace {

constexpr const char* kUsage =
    "usage: idrecon-tool <command> [options]\n"
    "\n"
    "Offline tools for the data directory of a STOPPED idrecon-server\n"
    "(backup alone also works while the server runs).\n"
    "\n"
    "commands:\n"
    "  import   load contacts from CSV, or replay /identify requests from JSONL\n"
    "  export   write every contact as CSV or JSONL\n"
    "  rebuild  rebuild the state from snapshot + log and write a fresh snapshot\n"
    "  verify   check the data model's invariants, log checksums and sequence continuity\n"
    "  stats    contacts, clusters, cluster sizes, log and snapshot sizes\n"
    "  backup   copy a data directory consistently, even while a server runs on it\n"
    "\n"
    "`idrecon-tool <command> --help` describes a command. Exit status: 0 done,\n"
    "1 failed (verify: a violation), 2 bad arguments.\n";

constexpr const char* kImportUsage =
    "usage: idrecon-tool import --data-dir D (--csv FILE | --requests FILE.jsonl)\n"
    "                           [--strict] [--merge [--renumber]] [--repair-time TS] [--null S]\n"
    "                           [--normalize on|off [--default-region CC]]\n"
    "\n"
    "--csv FILE        rows of a `contacts` table (header id,phoneNumber,email,linkedId,\n"
    "                  linkPrecedence,createdAt,updatedAt,deletedAt; an empty field is NULL), as\n"
    "                  `sqlite3 -header -csv` or PostgreSQL `\\copy ... CSV HEADER` write it.\n"
    "                  Ids and timestamps are kept; deleted rows are kept as deleted; the\n"
    "                  invariants of docs/api.md section 1 are restored and every repair is\n"
    "                  reported. A timestamp more than a day ahead of this machine's clock\n"
    "                  makes its row malformed.\n"
    "--requests FILE   one /identify JSON body per line, replayed in order.\n"
    "--strict          stop at the first malformed row; write nothing.\n"
    "--merge           allow importing into a directory that already holds data.\n"
    "--renumber        with --merge: shift imported ids above the existing ones.\n"
    "--repair-time TS  updatedAt for repaired rows (default: now; at most a day ahead).\n"
    "--null S          an unquoted CSV field equal to S is NULL too (MySQL INTO OUTFILE: --null '\\N').\n"
    "--normalize on|off, --default-region CC\n"
    "                  the match keys of a new directory (docs/api.md section 6); a directory\n"
    "                  that already has another setting is refused (exit status 2).\n"
    "\n"
    "stdout: one line per malformed row (\"malformed: line N, id I: reason\") and per\n"
    "repair (\"repair: line N, id I: what\"), naming lines and ids, never values;\n"
    "stderr: summary and timings.\n";

constexpr const char* kExportUsage =
    "usage: idrecon-tool export --data-dir D (--csv | --jsonl) [--out FILE]\n"
    "\n"
    "--csv        docs/api.md section 1 rows with a header; NULL is an empty field; timestamps\n"
    "             2026-11-22T01:20:19.123Z. Loads with `\\copy contacts FROM f CSV HEADER`.\n"
    "--jsonl      one JSON object per contact, as GET /contacts/{id} shows it.\n"
    "--out FILE   write to FILE (atomically, mode 0600) instead of stdout.\n";

constexpr const char* kRebuildUsage =
    "usage: idrecon-tool rebuild --data-dir D [--from-log] [--compact]\n"
    "       idrecon-tool rebuild --data-dir D --normalize on|off [--default-region CC]\n"
    "\n"
    "Rebuilds the state from the newest usable snapshot + the log and writes a fresh\n"
    "snapshot covering the last log record. Deterministic: the same log gives a\n"
    "byte-identical snapshot. Prints \"<sha256>  <snapshot path>\" (sha256sum format).\n"
    "\n"
    "--from-log   ignore existing snapshots; replay the whole log (it must start at 1).\n"
    "--compact    then trim the log through the new snapshot and remove other snapshots.\n"
    "--normalize  converts the directory to another normalisation setting (docs/api.md\n"
    "             section 6): every contact is re-clustered under the new match keys by\n"
    "             its link graph (clusters may merge or split; ids never change), a new\n"
    "             snapshot is written, the others removed and the log trimmed. Take a\n"
    "             backup first: a crash in its last steps can leave the directory unusable.\n";

constexpr const char* kVerifyUsage =
    "usage: idrecon-tool verify --data-dir D\n"
    "\n"
    "Checks every snapshot (checksum, structure, links), every log record (checksum,\n"
    "fields) and sequence continuity, then recovers the state and checks the invariants\n"
    "of docs/api.md section 1. Prints one line per violation, naming contacts by id\n"
    "(never a value); exit 0 when sound, 1 otherwise.\n";

constexpr const char* kStatsUsage =
    "usage: idrecon-tool stats --data-dir D [--json] [--top N]\n"
    "\n"
    "Contacts (live, deleted, vacant ids), clusters, cluster-size histogram, the N\n"
    "(default 10) largest clusters and most shared values, log and snapshot sizes.\n"
    "--json   print one JSON object instead of text.\n";

struct UsageError {
  std::string message;
};

// Parsed options: name → value ("" for a switch).
using Options = std::map<std::string, std::string, std::less<>>;

// `spec`: option name → takes a value.
std::optional<UsageError> ParseOptions(const std::vector<std::string_view>& args,
                                       const std::map<std::string, bool, std::less<>>& spec, Options* out) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.size() < 3 || a.substr(0, 2) != "--") return UsageError{"unexpected argument '" + std::string(a) + "'"};
    std::string_view name = a.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const auto it = spec.find(name);
    if (it == spec.end()) return UsageError{"unknown option --" + std::string(name)};
    if (out->count(name) != 0) return UsageError{"--" + std::string(name) + " given twice"};
    if (it->second) {
      if (!has_value) {
        if (i + 1 >= args.size()) return UsageError{"--" + std::string(name) + " needs a value"};
        value = args[++i];
      }
      if (value.empty()) return UsageError{"--" + std::string(name) + " needs a non-empty value"};
    } else if (has_value) {
      return UsageError{"--" + std::string(name) + " takes no value"};
    }
    out->emplace(std::string(name), std::string(value));
  }
  return std::nullopt;
}

bool Has(const Options& o, std::string_view name) { return o.find(name) != o.end(); }

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "idrecon-tool %.*s: %s\n", static_cast<int>(command.size()), command.data(), s.message().c_str());
  return 1;
}

std::string Rate(std::uint64_t rows, double seconds) {
  return seconds > 0 ? Grouped(static_cast<std::uint64_t>(static_cast<double>(rows) / seconds)) + " rows/s" : "-";
}

// --normalize / --default-region, when given.
std::optional<NormalizationSettings> NormalizationOption(const Options& o) {
  if (!Has(o, "normalize")) {
    if (Has(o, "default-region")) throw UsageError{"--default-region needs --normalize on"};
    return std::nullopt;
  }
  const std::string& v = o.at("normalize");
  if (v != "on" && v != "off") throw UsageError{"--normalize must be on or off"};
  NormalizationSettings n;
  n.normalize = v == "on";
  if (Has(o, "default-region")) {
    if (!n.normalize) throw UsageError{"--default-region needs --normalize on"};
    if (Status s = ParseRegion(o.at("default-region"), &n.default_region); !s.ok()) {
      throw UsageError{"--default-region: " + s.message()};
    }
  }
  return n;
}

int RunImport(const Options& o) {
  if (Has(o, "csv") == Has(o, "requests")) throw UsageError{"give exactly one of --csv FILE and --requests FILE"};
  if (Has(o, "renumber") && !Has(o, "merge")) throw UsageError{"--renumber needs --merge"};
  if (Has(o, "renumber") && Has(o, "requests")) throw UsageError{"--renumber applies to --csv only"};
  ImportOptions options;
  options.data_dir = o.at("data-dir");
  options.normalization = NormalizationOption(o);
  if (options.normalization) {
    // Another setting than the directory's is a bad argument (exit 2), and
    // is refused before anything is read.
    bool present = false;
    NormalizationSettings stored;
    if (Status s = ReadDirSettings(options.data_dir, &present, &stored); !s.ok()) return Fail("import", s);
    if (present && !(stored == *options.normalization)) {
      std::fprintf(stderr,
                   "idrecon-tool import: the data directory %s has normalisation %s, not %s; to convert it, run "
                   "`idrecon-tool rebuild --data-dir %s --normalize %s%s%s`\n",
                   options.data_dir.c_str(), Describe(stored).c_str(), Describe(*options.normalization).c_str(),
                   options.data_dir.c_str(), options.normalization->normalize ? "on" : "off",
                   options.normalization->default_region.empty() ? "" : " --default-region ",
                   options.normalization->default_region.c_str());
      return 2;
    }
  }
  options.strict = Has(o, "strict");
  options.merge = Has(o, "merge");
  options.renumber = Has(o, "renumber");
  if (Has(o, "null")) {
    if (Has(o, "requests")) throw UsageError{"--null applies to --csv only"};
    options.null_marker = o.at("null");
  }
  if (Has(o, "repair-time")) {
    if (Status s = ParseTimestamp(o.at("repair-time"), &options.repair_time); !s.ok()) {
      throw UsageError{"--repair-time: " + s.message()};
    }
    // It becomes updatedAt of repaired rows, which the engine never lets
    // later times go below: the same limit as the rows' own timestamps.
    if (options.repair_time > SystemClock::Instance().NowMillis() + kMaxFutureMillis) {
      throw UsageError{"--repair-time is more than a day in the future"};
    }
  }
  ImportSummary sum;
  Status s;
  if (Has(o, "csv")) {
    options.input_path = o.at("csv");
    s = ImportCsv(options, &sum);
  } else {
    options.input_path = o.at("requests");
    s = ImportRequests(options, &sum);
  }
  std::fflush(stdout);
  if (!s.ok()) return Fail("import", s);
  if (Has(o, "csv")) {
    std::fprintf(stderr,
                 "idrecon-tool import: %s rows read, %s imported, %s malformed (skipped), %s repairs; "
                 "%s existing contacts; now %s live, %s deleted, %s vacant ids, %s clusters\n",
                 Grouped(sum.records).c_str(), Grouped(sum.imported).c_str(), Grouped(sum.malformed).c_str(),
                 Grouped(sum.repairs).c_str(), Grouped(sum.existing).c_str(), Grouped(sum.live).c_str(),
                 Grouped(sum.deleted).c_str(), Grouped(sum.vacant).c_str(), Grouped(sum.clusters).c_str());
    std::fprintf(stderr,
                 "idrecon-tool import: timings: read %.2f s, reconcile %.2f s, load %.2f s, write %.2f s, total %.2f s "
                 "(%s)\n",
                 sum.read_seconds, sum.reconcile_seconds, sum.load_seconds, sum.write_seconds, sum.total_seconds,
                 Rate(sum.records, sum.total_seconds).c_str());
  } else {
    std::fprintf(stderr,
                 "idrecon-tool import: %s requests read, %s applied, %s malformed (skipped); %s contacts created, "
                 "%s merges; %s clusters\n",
                 Grouped(sum.records).c_str(), Grouped(sum.imported).c_str(), Grouped(sum.malformed).c_str(),
                 Grouped(sum.created).c_str(), Grouped(sum.merges).c_str(), Grouped(sum.clusters).c_str());
    std::fprintf(stderr, "idrecon-tool import: timings: replay %.2f s, snapshot %.2f s, total %.2f s (%s)\n",
                 sum.read_seconds, sum.write_seconds, sum.total_seconds, Rate(sum.records, sum.read_seconds).c_str());
  }
  if (!sum.snapshot_path.empty()) std::fprintf(stderr, "idrecon-tool import: wrote %s\n", sum.snapshot_path.c_str());
  return 0;
}

int RunExport(const Options& o) {
  if (Has(o, "csv") == Has(o, "jsonl")) throw UsageError{"give exactly one of --csv and --jsonl"};
  ExportOptions options;
  options.data_dir = o.at("data-dir");
  options.jsonl = Has(o, "jsonl");
  if (Has(o, "out")) options.out_path = o.at("out");
  ExportSummary sum;
  if (Status s = Export(options, &sum); !s.ok()) return Fail("export", s);
  std::fprintf(stderr, "idrecon-tool export: %s rows; timings: recover %.2f s, write %.2f s (%s)\n",
               Grouped(sum.rows).c_str(), sum.recover_seconds, sum.write_seconds,
               Rate(sum.rows, sum.write_seconds).c_str());
  return 0;
}

int RunConvert(const std::string& data_dir, const NormalizationSettings& to) {
  ConvertSummary sum;
  if (Status s = ConvertNormalization(data_dir, to, &sum); !s.ok()) return Fail("rebuild", s);
  if (sum.unchanged) {
    std::fprintf(stderr, "idrecon-tool rebuild: %s already has normalisation %s; nothing changed\n", data_dir.c_str(),
                 Describe(to).c_str());
    return 0;
  }
  std::fprintf(stderr,
               "idrecon-tool rebuild: normalisation %s -> %s: %s contacts, %s clusters before, %s after; wrote %s\n",
               Describe(sum.from).c_str(), Describe(to).c_str(), Grouped(sum.contacts).c_str(),
               Grouped(sum.clusters_before).c_str(), Grouped(sum.clusters_after).c_str(),
               sum.snapshot_path.empty() ? "the setting only (no data)" : sum.snapshot_path.c_str());
  return 0;
}

int RunRebuild(const Options& o) {
  if (const auto to = NormalizationOption(o)) {
    if (Has(o, "from-log") || Has(o, "compact")) throw UsageError{"--normalize takes no --from-log or --compact"};
    return RunConvert(o.at("data-dir"), *to);
  }
  RebuildOptions options;
  options.data_dir = o.at("data-dir");
  options.from_log_only = Has(o, "from-log");
  options.compact = Has(o, "compact");
  RebuildSummary sum;
  if (Status s = Rebuild(options, &sum); !s.ok()) return Fail("rebuild", s);
  if (sum.empty) {
    std::fprintf(stderr, "idrecon-tool rebuild: %s holds no data; nothing written\n", options.data_dir.c_str());
    return 0;
  }
  std::printf("%s  %s\n", sum.sha256.c_str(), sum.snapshot_path.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "idrecon-tool rebuild: %s contacts, %s clusters through seq %llu (from %s + %s log records); "
               "snapshot %s bytes; timings: recover %.2f s (%s), write %.2f s\n",
               Grouped(sum.contacts).c_str(), Grouped(sum.clusters).c_str(),
               static_cast<unsigned long long>(sum.last_seq),
               sum.loaded_snapshot.empty() ? "no snapshot" : sum.loaded_snapshot.c_str(), Grouped(sum.replayed).c_str(),
               Grouped(sum.snapshot_bytes).c_str(), sum.recover_seconds, Rate(sum.contacts, sum.recover_seconds).c_str(),
               sum.write_seconds);
  return 0;
}

int RunVerify(const Options& o) {
  VerifyReport report;
  if (Status s = Verify(o.at("data-dir"), &report); !s.ok()) return Fail("verify", s);
  for (const std::string& v : report.violations) std::printf("violation: %s\n", v.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "idrecon-tool verify: %s: %llu snapshots, %s log records (seq %llu..%llu), %s contacts, %s clusters; "
               "%.2f s\n",
               report.ok() ? "sound" : (Grouped(report.violations.size()) + " violations").c_str(),
               static_cast<unsigned long long>(report.snapshots), Grouped(report.log_records).c_str(),
               static_cast<unsigned long long>(report.log_first), static_cast<unsigned long long>(report.log_last),
               Grouped(report.contacts).c_str(), Grouped(report.clusters).c_str(), report.seconds);
  return report.ok() ? 0 : 1;
}

int RunStats(const Options& o) {
  std::size_t top = 10;
  if (Has(o, "top")) {
    const std::string& v = o.at("top");
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), top);
    if (ec != std::errc() || end != v.data() + v.size()) throw UsageError{"--top needs a non-negative integer"};
  }
  DataStats stats;
  if (Status s = ComputeStats(o.at("data-dir"), top, &stats); !s.ok()) return Fail("stats", s);
  const std::string text = Has(o, "json") ? StatsJson(stats) : StatsText(stats);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fprintf(stderr, "idrecon-tool stats: %.2f s\n", stats.seconds);
  return 0;
}

constexpr const char* kBackupUsage =
    "usage: idrecon-tool backup --data-dir D --out DIR\n"
    "\n"
    "Copies data directory D into DIR (new or empty) consistently, while a server\n"
    "may be running on D: the log through LMDB's copy API (one point in time,\n"
    "compacted), then the snapshot files. DIR is a data directory: start\n"
    "idrecon-server --data-dir DIR to restore. The only command that does not\n"
    "need the server stopped.\n";

int RunBackup(const Options& o) {
  if (!Has(o, "out")) throw UsageError{"--out DIR is required"};
  BackupReport report;
  if (Status s = BackupDataDir(o.at("data-dir"), o.at("out"), &report); !s.ok()) return Fail("backup", s);
  std::fprintf(stderr,
               "idrecon-tool backup: %s -> %s: log through seq %llu (%s bytes), %llu snapshots (%s bytes); %.2f s\n",
               o.at("data-dir").c_str(), o.at("out").c_str(), static_cast<unsigned long long>(report.log_last_seq),
               Grouped(report.log_bytes).c_str(), static_cast<unsigned long long>(report.snapshots),
               Grouped(report.snapshot_bytes).c_str(), report.seconds);
  return 0;
}

struct Command {
  const char* usage;
  std::map<std::string, bool, std::less<>> options;
  int (*run)(const Options&);
};

const std::map<std::string, Command, std::less<>>& Commands() {
  static const std::map<std::string, Command, std::less<>> commands = {
      {"import",
       {kImportUsage,
        {{"data-dir", true}, {"csv", true}, {"requests", true}, {"strict", false}, {"merge", false},
         {"renumber", false}, {"repair-time", true}, {"null", true}, {"normalize", true}, {"default-region", true},
         {"help", false}},
        &RunImport}},
      {"export", {kExportUsage, {{"data-dir", true}, {"csv", false}, {"jsonl", false}, {"out", true}, {"help", false}}, &RunExport}},
      {"rebuild",
       {kRebuildUsage,
        {{"data-dir", true}, {"from-log", false}, {"compact", false}, {"normalize", true}, {"default-region", true},
         {"help", false}},
        &RunRebuild}},
      {"verify", {kVerifyUsage, {{"data-dir", true}, {"help", false}}, &RunVerify}},
      {"stats", {kStatsUsage, {{"data-dir", true}, {"json", false}, {"top", true}, {"help", false}}, &RunStats}},
      {"backup", {kBackupUsage, {{"data-dir", true}, {"out", true}, {"help", false}}, &RunBackup}},
  };
  return commands;
}

}  // namespace

int RunTool(const std::vector<std::string_view>& args) {
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string_view first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    if (first == "help" && args.size() > 1) {
      const auto it = Commands().find(args[1]);
      if (it == Commands().end()) {
        std::fprintf(stderr, "idrecon-tool: unknown command '%.*s'\n%s", static_cast<int>(args[1].size()),
                     args[1].data(), kUsage);
        return 2;
      }
      std::fputs(it->second.usage, stdout);
      return 0;
    }
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto it = Commands().find(first);
  if (it == Commands().end()) {
    std::fprintf(stderr, "idrecon-tool: unknown command '%.*s'\n%s", static_cast<int>(first.size()), first.data(), kUsage);
    return 2;
  }
  const Command& command = it->second;
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  for (std::string_view a : rest) {
    if (a == "--help" || a == "-h") {
      std::fputs(command.usage, stdout);
      return 0;
    }
  }
  Options options;
  try {
    if (auto error = ParseOptions(rest, command.options, &options)) throw *error;
    if (!Has(options, "data-dir")) throw UsageError{"--data-dir D is required"};
    return command.run(options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "idrecon-tool %s: %s\n%s", it->first.c_str(), e.message.c_str(), command.usage);
    return 2;
  }
}

}  // namespace idrecon::tools
