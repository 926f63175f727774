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

TEST(StringArenaTest, ReserveMakesRoomForTheAppendsThatFollow) {
  StringArena arena;
  arena.Reserve(0);
  EXPECT_EQ(arena.bytes_reserved(), 0u) << "nothing to make room for";
  // Fill the first chunk to 10 bytes short of its end.
  const std::string filler(300, 'f');
  while (arena.bytes_used() + filler.size() + 10 <= StringArena::kChunkBytes) arena.Append(filler);
  arena.Append(std::string(StringArena::kChunkBytes - 10 - arena.bytes_used(), 'g'));
  ASSERT_EQ(arena.bytes_reserved(), StringArena::kChunkBytes);
  arena.Reserve(10);
  EXPECT_EQ(arena.bytes_reserved(), StringArena::kChunkBytes) << "10 bytes still fit";
  // 6 + 6 bytes do not: Reserve takes the next chunk, both appends land in it.
  arena.Reserve(12);
  EXPECT_EQ(arena.bytes_reserved(), 2 * StringArena::kChunkBytes);
  const StringRef a = arena.AppendReserved("abcdef");
  const StringRef b = arena.AppendReserved("ghijkl");
  EXPECT_EQ(arena.View(a), "abcdef");
  EXPECT_EQ(arena.View(b), "ghijkl");
  EXPECT_EQ(arena.bytes_reserved(), 2 * StringArena::kChunkBytes);
}

}  // namespace
}  // namespace idrecon
