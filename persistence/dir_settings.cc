#include "persistence/dir_settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "persistence/data_dir.h"
#include "persistence/posix_error.h"

namespace idrecon {
namespace {

std::string SettingsPath(const std::string& dir) { return dir + "/settings"; }

std::string ConversionHint(const NormalizationSettings& s) {
  std::string hint = "idrecon-tool rebuild --normalize " + std::string(s.normalize ? "on" : "off");
  if (s.normalize && !s.default_region.empty()) hint += " --default-region " + s.default_region;
  return hint;
}

}  // namespace

Status ReadDirSettings(const std::string& dir, bool* present, NormalizationSettings* out) {
  const std::string path = SettingsPath(dir);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      *present = false;
      return Status::Ok();
    }
    return ErrnoStatus("stat " + path, errno);
  }
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  NormalizationSettings s;
  bool saw_normalize = false;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    const std::string name = line.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
    auto bad = [&](const std::string& why) {
      return Status::Corruption(path + " line " + std::to_string(number) + ": " + why);
    };
    if (name == "normalize") {
      if (value != "on" && value != "off") return bad("normalize must be on or off");
      s.normalize = value == "on";
      saw_normalize = true;
    } else if (name == "default-region") {
      if (Status r = ParseRegion(value, &s.default_region); !r.ok()) return bad(r.message());
    } else {
      return bad("unknown setting '" + name + "'");
    }
  }
  if (!saw_normalize) return Status::Corruption(path + ": no normalize line");
  if (!s.normalize && !s.default_region.empty()) return Status::Corruption(path + ": a default region without normalisation");
  *present = true;
  *out = s;
  return Status::Ok();
}

Status WriteDirSettings(const std::string& dir, const NormalizationSettings& settings) {
  std::ostringstream text;
  text << "# idrecon data directory settings, fixed when the directory was created.\n"
       << "# Change them only with `idrecon-tool rebuild --normalize on|off [--default-region CC]`.\n"
       << "normalize=" << (settings.normalize ? "on" : "off") << "\n";
  if (settings.normalize && !settings.default_region.empty()) text << "default-region=" << settings.default_region << "\n";
  const std::string data = text.str();
  const std::string path = SettingsPath(dir);
  const std::string tmp = path + ".tmp";
  int fd = -1;
  if (Status s = OpenPrivateFile(tmp, O_WRONLY | O_TRUNC, &fd); !s.ok()) return s;
  Status s;
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) s = ErrnoStatus("write " + tmp, errno);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync " + tmp, errno);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus("rename " + tmp, errno);
  if (s.ok()) s = SyncDirectory(dir);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Status ResolveDirSettings(const std::string& dir, const std::optional<NormalizationSettings>& requested, bool empty,
                          NormalizationSettings* out) {
  bool present = false;
  NormalizationSettings stored;
  if (Status s = ReadDirSettings(dir, &present, &stored); !s.ok()) return s;
  if (!present && empty) {
    *out = requested.value_or(NormalizationSettings{});
    return WriteDirSettings(dir, *out);
  }
  if (!present) {
    // Data without the file: written before the setting existed, so off.
    if (Status s = WriteDirSettings(dir, stored); !s.ok()) return s;
  }
  if (requested && !(*requested == stored)) {
    return Status::InvalidArgument("the data directory " + dir + " has normalisation " + Describe(stored) +
                                   ", not " + Describe(*requested) + "; to convert it, stop the server and run `" +
                                   ConversionHint(*requested) + " --data-dir " + dir + "`");
  }
  *out = stored;
  return Status::Ok();
}

}  // namespace idrecon
