// SPDX-License-Identifier: Apache-2.0 OR MIT
// A small streaming JSON writer: indented output, commas and string escaping
// handled here so that the report cannot produce invalid JSON.
#ifndef ASYMFENCE_TOOLS_PROBE_JSON_WRITER_HPP
#define ASYMFENCE_TOOLS_PROBE_JSON_WRITER_HPP

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace asymfence::probe {

class json_writer {
 public:
  explicit json_writer(std::ostream& out) : out_(out) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  // Names the next value; only inside an object.
  json_writer& key(std::string_view name);

  json_writer& string(std::string_view text);
  json_writer& boolean(bool value);
  json_writer& integer(std::int64_t value);
  json_writer& unsigned_integer(std::uint64_t value);
  // NaN and infinities, which JSON cannot express, are written as null.
  json_writer& number(double value);
  json_writer& null();

  // Writes text as a JSON string literal, quotes included.
  static void write_escaped(std::ostream& out, std::string_view text);

 private:
  void before_value();
  void open(char bracket);
  void close(char bracket);

  struct level {
    bool empty = true;
  };
  std::ostream& out_;
  std::vector<level> levels_;
  bool after_key_ = false;
};

}  // namespace asymfence::probe

#endif
