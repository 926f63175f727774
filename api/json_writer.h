// JsonWriter: appends compact JSON text to a caller-owned std::string.
//
// Contract: the caller emits a well-formed sequence (Key before every value
// inside an object, Begin/End balanced); the writer inserts the commas and
// colons. It keeps no stack, only "does the next item need a comma", which is
// enough because every Key/value/Begin decides its comma the same way.
// Strings are escaped per RFC 8259: '"', '\\' and every byte below 0x20 are
// escaped (\b \f \n \r \t, otherwise \u00XX); all other bytes, including
// UTF-8 sequences, pass through unchanged (the writer does not validate UTF-8;
// every string it receives has been validated on the way in).
//
// Thread-safety: none; one writer per string, used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace idrecon {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();

  void Key(std::string_view key);
  void String(std::string_view value);
  void Int(std::int64_t value);
  void Uint(std::uint64_t value);
  void Bool(bool value);
  void Null();

 private:
  void BeforeValue();

  std::string& out_;
  bool need_comma_ = false;
};

// Appends `value` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view value);

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);
// `s` with every byte that is not part of a well-formed UTF-8 sequence
// replaced by U+FFFD, for echoing unvalidated client input (a request
// target) in a JSON message.
std::string ReplaceInvalidUtf8(std::string_view s);

}  // namespace idrecon
