// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "json_writer.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace asymfence::probe {

void json_writer::write_escaped(std::ostream& out, std::string_view text) {
  out << '"';
  for (char c : text) {
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      case '\b': out << "\\b"; break;
      case '\f': out << "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out << escaped;
        } else {
          out << c;  // UTF-8 passes through unchanged
        }
    }
  }
  out << '"';
}

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!levels_.empty()) {
    out_ << (levels_.back().empty ? "\n" : ",\n") << std::string(2 * levels_.size(), ' ');
    levels_.back().empty = false;
  }
}

void json_writer::close(char bracket) {
  bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) out_ << '\n' << std::string(2 * levels_.size(), ' ');
  out_ << bracket;
  if (levels_.empty()) out_ << '\n';
}

void json_writer::open(char bracket) {
  before_value();
  out_ << bracket;
  levels_.push_back({});
}

json_writer& json_writer::begin_object() {
  open('{');
  return *this;
}

json_writer& json_writer::end_object() {
  close('}');
  return *this;
}

json_writer& json_writer::begin_array() {
  open('[');
  return *this;
}

json_writer& json_writer::end_array() {
  close(']');
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  before_value();
  write_escaped(out_, name);
  out_ << ": ";
  after_key_ = true;
  return *this;
}

json_writer& json_writer::string(std::string_view text) {
  before_value();
  write_escaped(out_, text);
  return *this;
}

json_writer& json_writer::boolean(bool value) {
  before_value();
  out_ << (value ? "true" : "false");
  return *this;
}

json_writer& json_writer::integer(std::int64_t value) {
  before_value();
  out_ << value;
  return *this;
}

json_writer& json_writer::unsigned_integer(std::uint64_t value) {
  before_value();
  out_ << value;
  return *this;
}

json_writer& json_writer::number(double value) {
  if (!std::isfinite(value)) return null();
  before_value();
  char text[32];
  // Whole numbers from ten thousand on (calls per second, nanoseconds of a
  // slow barrier); six significant digits below.
  bool large = std::fabs(value) >= 1e4 && std::fabs(value) < 1e15;
  std::snprintf(text, sizeof text, large ? "%.0f" : "%.6g", value);
  out_ << text;
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ << "null";
  return *this;
}

}  // namespace asymfence::probe
