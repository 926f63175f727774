#include "tools/store.h"

#include <algorithm>
#include <thread>

namespace idrecon::tools {

Status OpenStore(const std::string& path, bool create, bool recover, std::unique_ptr<Database>* out,
                 std::optional<NormalizationSettings> normalization) {
  DatabaseOptions options;
  options.normalization = std::move(normalization);
  options.create_if_missing = create;
  options.writer = false;
  options.recover = recover;
  options.engine.restore_threads = std::max(1u, std::thread::hardware_concurrency());
  return Database::Open(path, options, out);
}

std::string Grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace idrecon::tools
