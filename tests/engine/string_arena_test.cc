#include "engine/string_arena.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idrecon {
namespace {

TEST(StringArenaTest, EmptyStringIsRefZero) {
  StringArena arena;
  EXPECT_EQ(arena.Append(""), 0u);
  EXPECT_EQ(arena.View(0), "");
}

TEST(StringArenaTest, ViewsStayValidAcrossChunks) {
  StringArena arena;
  std::vector<StringRef> refs;
  std::vector<std::string> values;
  // Enough 300-byte strings to span several 4 MiB chunks.
  for (int i = 0; i < 40000; ++i) {
    values.push_back(std::string(300, static_cast<char>('a' + i % 26)) + std::to_string(i));
    refs.push_back(arena.Append(values.back()));
  }
  const std::string_view first = arena.View(refs[0]);
  for (std::size_t i = 0; i < refs.size(); ++i) ASSERT_EQ(arena.View(refs[i]), values[i]) << i;
  EXPECT_EQ(first.data(), arena.View(refs[0]).data()) << "chunks never move";
  EXPECT_GT(arena.bytes_reserved(), StringArena::kChunkBytes * 2);
}

}  // namespace
}  // namespace idrecon
