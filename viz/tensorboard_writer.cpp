#include "torchzoo/viz/tensorboard_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "torchzoo/common/format.h"

namespace torchzoo::viz {
namespace {

/// The CRC-32C table (reflected polynomial 0x82F63B78), one entry per byte value.
std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    table[i] = crc;
  }
  return table;
}

/// TFRecord's masked CRC: rotated right by 15 bits plus a constant, so that a CRC of data that
/// holds CRCs does not degenerate.
uint32_t masked_crc(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

template <typename T>
std::string little_endian(T value) {
  std::string bytes(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

// Protocol buffers' wire format (protobuf.dev/programming-guides/encoding), for the three
// messages TensorBoard reads scalars from; the field numbers are those of TensorFlow's
// event.proto and summary.proto:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
// (Debian's libprotobuf is not linked for this: SentencePiece's library carries a protobuf of
// its own, 3.14, and the two in one process fail protobuf's version check at start-up.)
namespace wire {

enum Type : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void key(std::string& out, uint32_t field, Type type) { varint(out, (field << 3) | type); }

void fixed64(std::string& out, uint32_t field, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  key(out, field, kFixed64);
  out += little_endian<uint64_t>(bits);
}

void fixed32(std::string& out, uint32_t field, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  key(out, field, kFixed32);
  out += little_endian<uint32_t>(bits);
}

void int64_field(std::string& out, uint32_t field, int64_t value) {
  key(out, field, kVarint);
  varint(out, static_cast<uint64_t>(value));  // negative int64s take ten bytes, as protobuf writes them
}

void bytes_field(std::string& out, uint32_t field, std::string_view bytes) {
  key(out, field, kLengthDelimited);
  varint(out, bytes.size());
  out += bytes;
}

}  // namespace wire

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  static const auto table = make_crc32c_table();
  uint32_t crc = 0xffffffffu;
  for (const char c : data) crc = table[(crc ^ static_cast<unsigned char>(c)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    throw std::runtime_error(fmt::format("{}: cannot create the TensorBoard folder: {}", dir, error.message()));
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  // Seconds and the process id keep two writers of one second apart.
  path_ = (std::filesystem::path(dir) /
           fmt::format("events.out.tfevents.{}.{}.{}", static_cast<int64_t>(now_seconds()), host, ::getpid()))
              .string();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error(fmt::format("{}: cannot create the event file: {}", path_, std::strerror(errno)));
  std::string event;
  wire::fixed64(event, 1, now_seconds());
  wire::bytes_field(event, 3, "brain.Event:2");  // file_version
  write_record(event);
}

TensorBoardWriter::~TensorBoardWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void TensorBoardWriter::add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string entry;
    wire::bytes_field(entry, 1, tag);
    wire::fixed32(entry, 2, static_cast<float>(value));  // simple_value
    wire::bytes_field(summary, 1, entry);
  }
  std::string event;
  wire::fixed64(event, 1, now_seconds());
  wire::int64_field(event, 2, step);
  wire::bytes_field(event, 5, summary);
  write_record(event);
}

void TensorBoardWriter::write_record(const std::string& data) {
  const std::string length = little_endian<uint64_t>(data.size());
  const std::string record =
      length + little_endian<uint32_t>(masked_crc(length)) + data + little_endian<uint32_t>(masked_crc(data));
  // One write() per record: a reader never sees half of one unless the process dies mid-write.
  for (size_t done = 0; done < record.size();) {
    const auto n = ::write(fd_, record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(fmt::format("{}: cannot write an event: {}", path_, std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
}

}  // namespace torchzoo::viz
