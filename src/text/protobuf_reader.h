// A minimal reader of the protobuf wire format, enough for SentencePiece's ModelProto.
// Every read is bounds-checked; a short or malformed message throws ErrorKind::kCorrupt.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "skillmatch/core/error.h"

namespace skillmatch::text {

class ProtobufReader {
 public:
  enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

  ProtobufReader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  bool done() const { return pos_ >= data_.size(); }

  // Reads the next tag; returns false at the end of the message.
  bool next(std::uint32_t* field, WireType* wire) {
    if (done()) return false;
    std::uint64_t tag = varint();
    *field = static_cast<std::uint32_t>(tag >> 3);
    std::uint32_t w = static_cast<std::uint32_t>(tag & 7);
    SM_CHECK(*field != 0 && (w == kVarint || w == kFixed64 || w == kBytes || w == kFixed32),
             ErrorKind::kCorrupt,
             what_ + ": malformed protobuf tag at byte " + std::to_string(pos_));
    *wire = static_cast<WireType>(w);
    return true;
  }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      std::uint8_t b = static_cast<std::uint8_t>(data_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error(ErrorKind::kCorrupt, what_ + ": varint longer than 10 bytes");
  }

  float fixed32_float() {
    need(4);
    std::uint32_t bits = 0;
    for (int i = 3; i >= 0; --i) bits = (bits << 8) | static_cast<std::uint8_t>(data_[pos_ + i]);
    pos_ += 4;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }

  std::string_view bytes() {
    std::uint64_t n = varint();
    SM_CHECK(n <= data_.size() - pos_, ErrorKind::kCorrupt,
             what_ + ": field of " + std::to_string(n) + " bytes runs past the end of the data");
    std::string_view out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  void skip(WireType wire) {
    switch (wire) {
      case kVarint:
        varint();
        break;
      case kFixed64:
        need(8);
        pos_ += 8;
        break;
      case kFixed32:
        need(4);
        pos_ += 4;
        break;
      case kBytes:
        bytes();
        break;
    }
  }

  // Reads a field of the expected wire type; a mismatch is corruption.
  void expect(WireType got, WireType want, const char* field_name) {
    SM_CHECK(got == want, ErrorKind::kCorrupt,
             what_ + ": field " + field_name + " has the wrong protobuf wire type");
  }

 private:
  void need(std::size_t n) {
    SM_CHECK(data_.size() - pos_ >= n, ErrorKind::kCorrupt,
             what_ + ": truncated protobuf message at byte " + std::to_string(pos_));
  }

  std::string_view data_;
  std::string what_;
  std::size_t pos_ = 0;
};

}  // namespace skillmatch::text
