#include "persistence/snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "persistence/coding.h"
#include "persistence/crc32c.h"
#include "persistence/data_dir.h"
#include "persistence/disk_space.h"
#include "persistence/posix_error.h"

namespace idrecon {
namespace {

// Version 2 adds the normalisation setting to the header, and the legacy
// marks, the links and the guards after the contacts; version 1 files
// (nothing after the contacts, normalisation off) load.
constexpr char kMagicV1[8] = {'I', 'D', 'R', 'S', 'N', 'A', 'P', '\x01'};
constexpr char kMagic[8] = {'I', 'D', 'R', 'S', 'N', 'A', 'P', '\x02'};
constexpr std::size_t kHeaderBytesV1 = 24;
constexpr std::size_t kHeaderBytes = 28;  // + u8 normalize | u8 region length (0 or 2) | 2 region bytes
constexpr Millis kNoDeletion = std::numeric_limits<Millis>::min();

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// A read-only mapping of a whole file.
class MappedFile {
 public:
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  Status Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("stat " + path, err);
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      // MAP_POPULATE: map every page now, in one call, rather than fault
      // them in one by one as the loader walks the file.
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return ErrnoStatus("mmap " + path, err);
      }
      data_ = p;
      ::madvise(p, size_, MADV_SEQUENTIAL);
    }
    ::close(fd);
    return Status::Ok();
  }
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

std::string SnapshotFileName(Seq last_seq) {
  std::string digits = std::to_string(last_seq);
  return "snapshot-" + std::string(20 - digits.size(), '0') + digits + ".snap";
}

void EncodeSnapshot(const Engine& engine, Seq last_seq, std::string* out) {
  out->append(kMagic, sizeof(kMagic));
  PutLE<std::uint64_t>(out, last_seq);
  PutLE<std::uint64_t>(out, engine.contact_count());
  const NormalizationSettings& norm = engine.match_keys().settings();
  out->push_back(norm.normalize ? 1 : 0);
  out->push_back(static_cast<char>(norm.default_region.size() == 2 ? 2 : 0));
  out->push_back(norm.default_region.size() == 2 ? norm.default_region[0] : '\0');
  out->push_back(norm.default_region.size() == 2 ? norm.default_region[1] : '\0');
  engine.ForEachContact([&](const ContactRow& row) {
    PutLE<std::int64_t>(out, row.created_at);
    PutLE<std::int64_t>(out, row.updated_at);
    PutLE<std::int64_t>(out, row.deleted_at ? *row.deleted_at : kNoDeletion);
    PutLE<std::uint32_t>(out, row.linked_id);
    PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(row.email.size()));
    out->append(row.email);
    PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(row.phone.size()));
    out->append(row.phone);
  });
  // Legacy marks and links (docs/api.md §9), then guards.
  std::vector<ContactId> legacy;
  engine.ForEachContact([&](const ContactRow& row) {
    if (row.legacy_linked) legacy.push_back(row.id);
  });
  PutLE<std::uint32_t>(out, static_cast<std::uint32_t>(legacy.size()));
  for (ContactId id : legacy) PutLE<std::uint32_t>(out, id);
  auto put_string = [out](std::string_view v) {
    PutLE<std::uint16_t>(out, static_cast<std::uint16_t>(v.size()));
    out->append(v);
  };
  std::string links;
  std::uint32_t clusters_with_links = 0;
  engine.ForEachClusterLinks([&](ContactId root, const ClusterLinks& l) {
    ++clusters_with_links;
    PutLE<std::uint32_t>(&links, root);
    PutLE<std::uint32_t>(&links, static_cast<std::uint32_t>(l.merges.size()));
    for (const MergeLink& m : l.merges) {
      PutLE<std::uint64_t>(&links, m.seq);
      PutLE<std::int64_t>(&links, m.at);
      PutLE<std::uint16_t>(&links, static_cast<std::uint16_t>(m.email.size()));
      links.append(m.email);
      PutLE<std::uint16_t>(&links, static_cast<std::uint16_t>(m.phone.size()));
      links.append(m.phone);
    }
    PutLE<std::uint32_t>(&links, static_cast<std::uint32_t>(l.pairs.size()));
    for (const PairLink& p : l.pairs) {
      PutLE<std::uint32_t>(&links, p.a);
      PutLE<std::uint32_t>(&links, p.b);
      PutLE<std::uint64_t>(&links, p.seq);
      links.push_back(p.legacy ? 1 : 0);
    }
  });
  PutLE<std::uint32_t>(out, clusters_with_links);
  out->append(links);
  std::vector<GuardEntry> guards;
  engine.ListGuards(&guards);
  std::erase_if(guards, [](const GuardEntry& g) { return g.reason == GuardReason::kFile; });
  PutLE<std::uint32_t>(out, static_cast<std::uint32_t>(guards.size()));
  for (const GuardEntry& g : guards) {
    out->push_back(static_cast<char>(g.field));
    out->push_back(static_cast<char>(g.reason));
    out->push_back(g.split ? 1 : 0);
    PutLE<std::int64_t>(out, g.since);
    put_string(g.value);
    PutLE<std::uint32_t>(out, static_cast<std::uint32_t>(g.split_members.size()));
    for (ContactId id : g.split_members) PutLE<std::uint32_t>(out, id);
  }
  PutLE<std::uint32_t>(out, crc32c::Value(*out));
}

Status WriteSnapshot(const Engine& engine, Seq last_seq, const std::string& dir, SnapshotInfo* info,
                     std::uint64_t keep_free_bytes) {
  std::string data;
  data.reserve(kHeaderBytes + engine.contact_count() * 72);
  EncodeSnapshot(engine, last_seq, &data);
  std::uint64_t free_bytes = 0;
  if (Status s = FreeBytes(dir, &free_bytes); !s.ok()) return s;
  if (data.size() + keep_free_bytes > free_bytes) {
    return Status::IOError("no room for a snapshot of " + std::to_string(data.size()) + " bytes in " + dir + ": " +
                           std::to_string(free_bytes) + " bytes are free and " + std::to_string(keep_free_bytes) +
                           " must stay free for the log");
  }
  const std::string final_path = dir + "/" + SnapshotFileName(last_seq);
  const std::string tmp_path = final_path + ".tmp";
  int fd = -1;
  if (Status s = OpenPrivateFile(tmp_path, O_WRONLY | O_TRUNC, &fd); !s.ok()) return s;
  // Take the blocks first: a disk that fills meanwhile fails here, before a
  // byte is written, not halfway through.
  Status s = ReserveFileSpace(fd, 0, static_cast<off_t>(data.size()), tmp_path);
  if (s.ok()) s = WriteAll(fd, data, tmp_path);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync " + tmp_path, errno);
  ::close(fd);
  if (s.ok() && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) s = ErrnoStatus("rename " + tmp_path, errno);
  if (s.ok()) s = SyncDirectory(dir);
  if (!s.ok()) {
    ::unlink(tmp_path.c_str());
    return s;
  }
  info->path = final_path;
  info->last_seq = last_seq;
  info->contacts = engine.contact_count();
  info->bytes = data.size();
  return Status::Ok();
}

Status LoadSnapshot(const std::string& path, Engine* engine, SnapshotInfo* info) {
  MappedFile file;
  if (Status s = file.Open(path); !s.ok()) return s;
  return LoadSnapshotBytes(file.bytes(), path, engine, info);
}

namespace {

// The size, magic and checksum of a whole snapshot.
Status CheckSnapshotBytes(std::string_view bytes, const std::string& path) {
  auto bad = [&](const std::string& why) { return Status::Corruption("snapshot " + path + ": " + why); };
  if (bytes.size() < kHeaderBytesV1 + 4) return bad("file is too short (" + std::to_string(bytes.size()) + " bytes)");
  const bool v1 = std::memcmp(bytes.data(), kMagicV1, sizeof(kMagicV1)) == 0;
  if (!v1 && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return bad("not an idrecon snapshot (bad magic)");
  if (!v1 && bytes.size() < kHeaderBytes + 4 + 4) return bad("file is too short (" + std::to_string(bytes.size()) + " bytes)");
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (GetLE<std::uint32_t>(body.data() + body.size()) != crc32c::Value(body)) return bad("checksum mismatch");
  return Status::Ok();
}

}  // namespace

Status CheckSnapshot(const std::string& path) {
  MappedFile file;
  if (Status s = file.Open(path); !s.ok()) return s;
  return CheckSnapshotBytes(file.bytes(), path);
}

Status LoadSnapshotBytes(std::string_view bytes, const std::string& path, Engine* engine, SnapshotInfo* info) {
  auto bad = [&](const std::string& why) { return Status::Corruption("snapshot " + path + ": " + why); };
  if (Status s = CheckSnapshotBytes(bytes, path); !s.ok()) return s;
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  const auto last_seq = GetLE<std::uint64_t>(body.data() + 8);
  const auto count = GetLE<std::uint64_t>(body.data() + 16);
  const bool v1 = std::memcmp(bytes.data(), kMagicV1, sizeof(kMagicV1)) == 0;
  const std::size_t header = v1 ? kHeaderBytesV1 : kHeaderBytes;
  NormalizationSettings written;  // version 1: off
  if (!v1) {
    const auto region_len = static_cast<unsigned char>(body[25]);
    if (static_cast<unsigned char>(body[24]) > 1 || (region_len != 0 && region_len != 2) ||
        (region_len == 0 && (body[26] != 0 || body[27] != 0))) {
      return bad("bad normalisation setting");
    }
    written.normalize = body[24] == 1;
    if (region_len == 2) written.default_region.assign(body.data() + 26, 2);
  }
  if (!(written == engine->match_keys().settings())) {
    return Status::InvalidArgument("snapshot " + path + " was written with normalisation " + Describe(written) +
                                   ", not " + Describe(engine->match_keys().settings()));
  }

  // Check the framing of every row and remember where each starts; the
  // engine then reads them (twice, from several threads) through the
  // offsets. 30 bytes is the smallest row.
  if (count > (body.size() - header) / 30) return bad("contact count " + std::to_string(count) + " does not fit");
  std::vector<std::uint64_t> offsets(static_cast<std::size_t>(count) + 1);
  std::size_t pos = header;
  for (std::uint64_t i = 0; i < count; ++i) {
    offsets[i + 1] = pos;
    if (body.size() - pos < 30) return bad("contact " + std::to_string(i + 1) + " is cut short");
    pos += 28;
    for (int field = 0; field < 2; ++field) {
      if (body.size() - pos < 2) return bad("contact " + std::to_string(i + 1) + " is cut short");
      const auto len = GetLE<std::uint16_t>(body.data() + pos);
      pos += 2;
      if (body.size() - pos < len) return bad("contact " + std::to_string(i + 1) + " is cut short");
      pos += len;
    }
  }
  // The sections after the contacts (format 2), read into memory first:
  // the engine takes them after the rows.
  std::vector<ContactId> legacy;
  std::vector<std::pair<ContactId, ClusterLinks>> links;
  std::vector<GuardEntry> guards;
  if (!v1) {
    auto need = [&](std::size_t n) { return body.size() - pos >= n; };
    auto u32 = [&] {
      const auto v = GetLE<std::uint32_t>(body.data() + pos);
      pos += 4;
      return v;
    };
    auto take = [&](std::string* s) {
      if (!need(2)) return false;
      const auto len = GetLE<std::uint16_t>(body.data() + pos);
      pos += 2;
      if (!need(len)) return false;
      s->assign(body.data() + pos, len);
      pos += len;
      return true;
    };
    if (!need(4)) return bad("the legacy marks are cut short");
    const std::uint32_t legacy_count = u32();
    if (!need(std::size_t{legacy_count} * 4)) return bad("the legacy marks are cut short");
    for (std::uint32_t i = 0; i < legacy_count; ++i) {
      legacy.push_back(u32());
      if (i > 0 && legacy[i] <= legacy[i - 1]) return bad("the legacy marks are not ascending");
    }
    if (!need(4)) return bad("the links are cut short");
    const std::uint32_t link_clusters = u32();
    for (std::uint32_t i = 0; i < link_clusters; ++i) {
      if (!need(8)) return bad("the links are cut short");
      const ContactId root = u32();
      if (!links.empty() && root <= links.back().first) return bad("the links are not by ascending root");
      ClusterLinks l;
      const std::uint32_t merges = u32();
      for (std::uint32_t k = 0; k < merges; ++k) {
        MergeLink m;
        if (!need(16)) return bad("a merge link is cut short");
        m.seq = GetLE<std::uint64_t>(body.data() + pos);
        m.at = GetLE<std::int64_t>(body.data() + pos + 8);
        pos += 16;
        if (!take(&m.email) || !take(&m.phone)) return bad("a merge link is cut short");
        l.merges.push_back(std::move(m));
      }
      if (!need(4)) return bad("the links are cut short");
      const std::uint32_t pairs = u32();
      if (!need(std::size_t{pairs} * 17)) return bad("a pair link is cut short");
      for (std::uint32_t k = 0; k < pairs; ++k) {
        PairLink p;
        p.a = u32();
        p.b = u32();
        p.seq = GetLE<std::uint64_t>(body.data() + pos);
        if (static_cast<unsigned char>(body[pos + 8]) > 1) return bad("a pair link has a bad legacy flag");
        p.legacy = body[pos + 8] != 0;
        pos += 9;
        l.pairs.push_back(p);
      }
      if (l.empty()) return bad("a cluster with no links is listed");
      links.emplace_back(root, std::move(l));
    }
    if (!need(4)) return bad("the guard count is cut short");
    const auto guard_count = u32();
    for (std::uint32_t i = 0; i < guard_count; ++i) {
      if (!need(11)) return bad("guard " + std::to_string(i + 1) + " is cut short");
      GuardEntry g;
      g.field = static_cast<GuardField>(body[pos]);
      g.reason = static_cast<GuardReason>(body[pos + 1]);
      if (static_cast<unsigned char>(body[pos + 2]) > 1) return bad("guard " + std::to_string(i + 1) + " has a bad split flag");
      g.split = body[pos + 2] != 0;
      g.since = GetLE<std::int64_t>(body.data() + pos + 3);
      pos += 11;
      if (!take(&g.value) || !need(4)) return bad("guard " + std::to_string(i + 1) + " is cut short");
      const std::uint32_t members = u32();
      if (!need(std::size_t{members} * 4)) return bad("guard " + std::to_string(i + 1) + " is cut short");
      for (std::uint32_t k = 0; k < members; ++k) {
        g.split_members.push_back(u32());
        if (k > 0 && g.split_members[k] <= g.split_members[k - 1]) return bad("a split guard's members are not ascending");
      }
      if (!g.split && !g.split_members.empty()) return bad("a guard without split lists members");
      if (!guards.empty() && std::pair(static_cast<int>(g.field), g.value) <=
                                 std::pair(static_cast<int>(guards.back().field), guards.back().value)) {
        return bad("the guards are not in order");
      }
      guards.push_back(std::move(g));
    }
  }
  if (pos != body.size()) return bad(std::to_string(body.size() - pos) + " stray bytes after the last record");

  class SnapshotRows : public RowSource {
   public:
    SnapshotRows(std::string_view body, const std::vector<std::uint64_t>& offsets) : body_(body), offsets_(offsets) {}
    std::size_t count() const override { return offsets_.size() - 1; }
    void Read(ContactId id, ContactRow* row) const override {
      const char* p = body_.data() + offsets_[id];
      row->created_at = GetLE<std::int64_t>(p);
      row->updated_at = GetLE<std::int64_t>(p + 8);
      const auto deleted = GetLE<std::int64_t>(p + 16);
      if (deleted != kNoDeletion) row->deleted_at = deleted;
      row->linked_id = GetLE<std::uint32_t>(p + 24);
      row->is_primary = row->linked_id == 0;
      p += 28;
      const auto email_len = GetLE<std::uint16_t>(p);
      row->email = std::string_view(p + 2, email_len);
      p += 2 + email_len;
      row->phone = std::string_view(p + 2, GetLE<std::uint16_t>(p));
    }

   private:
    std::string_view body_;
    const std::vector<std::uint64_t>& offsets_;
  };
  if (Status s = engine->RestoreAll(SnapshotRows(body, offsets)); !s.ok()) return bad(s.message());
  if (Status s = engine->RestoreLegacyLinked(legacy, v1); !s.ok()) return bad(s.message());
  for (auto& [root, l] : links) {
    if (Status s = engine->RestoreClusterLinks(root, std::move(l)); !s.ok()) return bad(s.message());
  }
  for (const GuardEntry& g : guards) {
    if (Status s = engine->RestoreGuard(g); !s.ok()) return bad(s.message());
  }
  engine->FinishRestore(last_seq);
  info->path = path;
  info->last_seq = last_seq;
  info->contacts = count;
  info->bytes = bytes.size();
  return Status::Ok();
}

Status RemoveSnapshotTemporaries(const std::string& dir, int* removed) {
  *removed = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("list " + dir, errno);
  std::vector<std::string> doomed;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.starts_with("snapshot-") && name.ends_with(".snap.tmp")) doomed.push_back(dir + "/" + name);
  }
  ::closedir(d);
  for (const std::string& path : doomed) {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove " + path, errno);
    ++*removed;
  }
  return Status::Ok();
}

Status ListSnapshots(const std::string& dir, std::vector<SnapshotInfo>* out) {
  out->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("list " + dir, errno);
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() != 9 + 20 + 5 || name.compare(0, 9, "snapshot-") != 0 || name.compare(29, 5, ".snap") != 0) continue;
    const std::string digits = name.substr(9, 20);
    SnapshotInfo info;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), info.last_seq);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    info.path = dir + "/" + name;
    struct stat st;
    if (::stat(info.path.c_str(), &st) == 0) info.bytes = static_cast<std::uint64_t>(st.st_size);
    out->push_back(std::move(info));
  }
  ::closedir(d);
  std::sort(out->begin(), out->end(), [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.last_seq > b.last_seq; });
  return Status::Ok();
}

}  // namespace idrecon
